-- The what-if panel's baseline (budget page): the trailing twelve complete months as
-- published, per practice and location, so that the page applies a user's scenario to
-- figures from dbt instead of summing KPI rows itself. Not a KPI: the sums of monthly
-- kpi_values rows over the window, and the provider FTE and no-show rate of its last
-- month. A complete month ends on or before the as-of date.
-- Grain: one row per (scope, scope_id).
with

kpi_values as (
    select * from {{ ref('kpi_values') }}
),

as_of as (
    select as_of_date from {{ ref('int_as_of') }}
),

complete_months as (
    select distinct kpi_values.period_start as month_start
    from kpi_values
    cross join as_of
    where kpi_values.period_grain = 'month'
        and {{ dbt.last_day('kpi_values.period_start', 'month') }} <= as_of.as_of_date
),

ranked_months as (
    select
        month_start,
        row_number() over (order by month_start desc) as recency
    from complete_months
),

window_bounds as (
    select
        min(month_start) as window_start,
        max(month_start) as window_end
    from ranked_months
    where recency <= 12
),

rows_in_window as (
    select
        kpi_values.*,
        window_bounds.window_start,
        window_bounds.window_end
    from kpi_values
    cross join window_bounds
    where kpi_values.period_grain = 'month'
        and kpi_values.scope in ('practice', 'location')
        and kpi_values.period_start between window_bounds.window_start and window_bounds.window_end
)

select
    cast(scope as {{ dbt.type_string() }}) as scope,
    cast(scope_id as {{ dbt.type_string() }}) as scope_id,
    cast(min(window_start) as date) as window_start,
    cast(min(window_end) as date) as window_end,
    cast(count(distinct period_start) as int) as months,
    cast(coalesce(sum(case when kpi = 'completed_visits' then value end), 0) as double) as visits,
    cast(coalesce(sum(case when kpi = 'payments' then value end), 0) as double) as collections,
    cast(coalesce(sum(case when kpi = 'labor_cost' then value end), 0) as double) as labor_cost,
    cast(coalesce(sum(case when kpi = 'non_labor_cost' then value end), 0) as double) as non_labor_cost,
    cast(
        max(
            case when kpi = 'visits_per_provider_fte' and period_start = window_end then denominator end
        ) as double
    )
        as provider_fte,
    cast(max(case when kpi = 'no_show_rate' and period_start = window_end then value end) as double)
        as no_show_rate
from rows_in_window
group by scope, scope_id
