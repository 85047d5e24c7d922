-- The months kpi_forecast still has to come in its fiscal year, each at the run rate
-- with its own 95 % band (run rate ± 1.96 x the monthly spread), for the forecast chart
-- of the budget page and the board deck. Method: kpi_forecast.
-- Grain: one row per (scope, scope_id, kpi, month_start).
with

forecast as (
    select * from {{ ref('kpi_forecast') }}
),

offsets as (
    {%- for n in range(12) %}
        select {{ n }} as month_offset
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
)

select
    forecast.scope,
    forecast.scope_id,
    forecast.kpi,
    cast({{ dbt.dateadd('month', 'offsets.month_offset', 'forecast.year_start') }} as date) as month_start,
    forecast.run_rate as value,
    cast(forecast.run_rate - 1.96 * forecast.monthly_spread as double) as low,
    cast(forecast.run_rate + 1.96 * forecast.monthly_spread as double) as high
from forecast
cross join offsets
where offsets.month_offset >= 12 - forecast.months_left
