-- Reporting periods (ISO weeks named by their Monday, calendar months, fiscal quarters
-- and fiscal years named by their first day, macros/fiscal_periods.sql) up to the one
-- holding the as-of date, which ends at the as-of date. period_end is "the period's
-- last day" of KPI_SPEC.md, the D of every "at D" KPI; days_in_period counts the
-- (possibly shortened) period's days. Both come from the period's own bounds, not from
-- the calendar's extent, so the first period is whole even when data starts mid-period
-- (a fiscal year can start months before the calendar's first day).
-- Grain: one row per (period_grain, period_start).
with

days as (
    select day from {{ ref('int_days') }}
),

as_of as (
    select as_of_date from {{ ref('int_as_of') }}
),

periods as (
    {%- for grain in period_grains() %}
        select distinct
            '{{ grain }}' as period_grain,
            {{ period_start_of(grain, 'day') }} as period_start
        from days
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

bounded as (
    select
        periods.period_grain,
        periods.period_start,
        case periods.period_grain
            {%- for grain in period_grains() %}
                when '{{ grain }}' then {{ period_natural_end(grain, 'periods.period_start') }}
            {%- endfor %}
        end as natural_end,
        as_of.as_of_date
    from periods
    cross join as_of
)

select
    period_grain,
    period_start,
    case when natural_end > as_of_date then as_of_date else natural_end end as period_end,
    {{ days_between('period_start', 'case when natural_end > as_of_date then as_of_date else natural_end end') }}
    + 1
        as days_in_period
from bounded
