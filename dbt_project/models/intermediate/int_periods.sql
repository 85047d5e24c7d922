-- Reporting periods (ISO weeks named by their Monday, calendar months) up to the one
-- holding the as-of date, which ends at the as-of date. period_end is "the period's
-- last day" of KPI_SPEC.md, the D of every "at D" KPI; days_in_period counts the
-- (possibly shortened) period's days.
-- Grain: one row per (period_grain, period_start).
with

days as (
    select day from {{ ref('int_days') }}
),

bucketed as (
    select 'week' as period_grain, cast({{ dbt.date_trunc('week', 'day') }} as date) as period_start, day
    from days
    union all
    select 'month' as period_grain, cast({{ dbt.date_trunc('month', 'day') }} as date) as period_start, day
    from days
)

select
    period_grain,
    period_start,
    max(day) as period_end,
    count(*) as days_in_period
from bucketed
group by period_grain, period_start
