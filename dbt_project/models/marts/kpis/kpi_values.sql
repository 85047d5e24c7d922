-- The published long table of KPI_SPEC.md "Published outputs" (`marts.kpi_values`): every
-- KPI of every domain, one row per period, scope and KPI, so that every screen, deck,
-- export and check reads the same numbers. Each kpi_* model already follows the
-- row-existence and numerator/denominator conventions; this only unions them with the
-- published column types.
-- Grain: one row per (period_grain, period_start, scope, scope_id, kpi).
{%- set kpi_models = [
    'kpi_access',
    'kpi_production',
    'kpi_revenue_cycle',
    'kpi_cost',
    'kpi_provider_fte',
    'kpi_budget',
] %}
with

{% for kpi_model in kpi_models %}
{{ kpi_model }} as (
    select * from {{ ref(kpi_model) }}
),
{% endfor %}

unioned as (
    {%- for kpi_model in kpi_models %}
    select period_grain, period_start, scope, scope_id, kpi, value, numerator, denominator
    from {{ kpi_model }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
)

select
    {{ kpi_columns() }},
    -- TEMPORARY (kpi-status branch, drop at merge): kpi-grains computes `complete`
    -- from each source's coverage; this stand-in lets marts.kpi_status build meanwhile.
    true as complete
from unioned
