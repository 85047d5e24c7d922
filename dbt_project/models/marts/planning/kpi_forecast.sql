-- Run-rate forecast of the fiscal year holding the as-of date, for the budgeted volume
-- and money KPIs (issue 19 item 7): the budget page and the board deck both read it, so
-- the year's forecast is written once. Not a KPI: planning arithmetic on published
-- monthly kpi_values, with its method stated where it is shown.
--
-- Method: year total = the complete months of the year as published + each month left
-- x the run rate, the mean of the last three complete months (of any year). The 95 %
-- interval treats each month left as the run rate plus an independent deviation with
-- the spread (sample standard deviation) of the last twelve complete months:
-- ± 1.96 x sd x sqrt(months left); one complete month gives no spread (0). A complete
-- month ends on or before the as-of date; the as-of month is forecast whole, because
-- its published value is partial. No seasonality or growth is assumed. When no month
-- of the year is complete yet, all of its months are forecast.
-- The fiscal year starts in month var('fiscal_year_start_month') (default 1 = January),
-- the configuration KPI_SPEC.md "Calendar and grain" names.
-- Grain: one row per (scope, scope_id, kpi) for the as-of fiscal year; kpi_forecast_months
-- holds the months still to come.
{%- set forecast_kpis = [
    'completed_visits', 'gross_charges', 'payments', 'labor_cost', 'non_labor_cost', 'operating_cost',
] %}
{%- set fiscal_start = var('fiscal_year_start_month', 1) | int %}
with

kpi_values as (
    select * from {{ ref('kpi_values') }}
),

as_of as (
    select as_of_date from {{ ref('int_as_of') }}
),

fiscal_year as (
    select
        make_date(
            cast(extract(year from as_of_date) as int)
            - case when cast(extract(month from as_of_date) as int) < {{ fiscal_start }} then 1 else 0 end,
            {{ fiscal_start }},
            1
        ) as year_start,
        as_of_date
    from as_of
),

complete_months as (
    select
        kpi_values.scope,
        kpi_values.scope_id,
        kpi_values.kpi,
        kpi_values.period_start as month_start,
        kpi_values.value,
        row_number() over (
            partition by kpi_values.scope, kpi_values.scope_id, kpi_values.kpi
            order by kpi_values.period_start desc
        ) as recency
    from kpi_values
    cross join as_of
    where kpi_values.period_grain = 'month'
        and kpi_values.scope in ('practice', 'location')
        and kpi_values.kpi in (
            '{{ forecast_kpis | join("', '") }}'
        )
        and kpi_values.value is not null
        and {{ dbt.last_day('kpi_values.period_start', 'month') }} <= as_of.as_of_date
),

summarised as (
    select
        complete_months.scope,
        complete_months.scope_id,
        complete_months.kpi,
        fiscal_year.year_start,
        max(complete_months.month_start) as last_complete_month,
        sum(
            case
                when complete_months.month_start >= fiscal_year.year_start then complete_months.value else 0
            end
        )
            as year_to_date,
        avg(case when complete_months.recency <= 3 then complete_months.value end) as run_rate,
        coalesce(stddev_samp(case when complete_months.recency <= 12 then complete_months.value end), 0)
            as spread
    from complete_months
    cross join fiscal_year
    group by complete_months.scope, complete_months.scope_id, complete_months.kpi, fiscal_year.year_start
),

with_months_left as (
    select
        *,
        case
            when last_complete_month >= year_start
                then 11 - {{ dbt.datediff('year_start', 'last_complete_month', 'month') }}
            else 12
        end as months_left
    from summarised
)

select
    cast(scope as {{ dbt.type_string() }}) as scope,
    cast(scope_id as {{ dbt.type_string() }}) as scope_id,
    cast(kpi as {{ dbt.type_string() }}) as kpi,
    cast(year_start as date) as year_start,
    cast(last_complete_month as date) as last_complete_month,
    cast(year_to_date as double) as year_to_date,
    cast(run_rate as double) as run_rate,
    cast(spread as double) as monthly_spread,
    cast(months_left as int) as months_left,
    cast(year_to_date + run_rate * months_left as double) as forecast,
    cast(year_to_date + run_rate * months_left - 1.96 * spread * sqrt(months_left) as double) as forecast_low,
    cast(year_to_date + run_rate * months_left + 1.96 * spread * sqrt(months_left) as double) as forecast_high
from with_months_left
