-- Reporting periods (ISO weeks named by their Monday, calendar months) up to the one
-- holding the as-of date, which ends at the as-of date. period_end is "the period's
-- last day" of KPI_SPEC.md, the D of every "at D" KPI; days_in_period counts the
-- (possibly shortened) period's days. Both come from the period's own bounds, not from
-- the calendar's extent, so the first period is whole even when data starts mid-period.
-- Grain: one row per (period_grain, period_start).
with

days as (
    select day from {{ ref('int_days') }}
),

as_of as (
    select as_of_date from {{ ref('int_as_of') }}
),

periods as (
    select distinct 'week' as period_grain, cast({{ dbt.date_trunc('week', 'day') }} as date) as period_start
    from days
    union all
    select distinct 'month' as period_grain, cast({{ dbt.date_trunc('month', 'day') }} as date) as period_start
    from days
),

bounded as (
    select
        periods.period_grain,
        periods.period_start,
        case
            when periods.period_grain = 'week' then {{ add_days('periods.period_start', 6) }}
            else {{ add_days(dbt.dateadd('month', 1, 'periods.period_start'), -1) }}
        end as natural_end,
        as_of.as_of_date
    from periods
    cross join as_of
)

select
    period_grain,
    period_start,
    case when natural_end > as_of_date then as_of_date else natural_end end as period_end,
    {{ days_between('period_start', 'case when natural_end > as_of_date then as_of_date else natural_end end') }} + 1
        as days_in_period
from bounded
