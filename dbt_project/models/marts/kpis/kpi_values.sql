-- The published long table of KPI_SPEC.md "Published outputs" (`marts.kpi_values`): every
-- KPI of every domain, one row per period, scope and KPI, so that every screen, deck,
-- export and check reads the same numbers. Each kpi_* model already follows the
-- row-existence and numerator/denominator conventions; this unions them with the
-- published column types and adds `complete` ("Complete rows"): true when every source
-- the KPI reads has data through the row's judged day, the period's last day
-- (int_periods.period_end, the as-of date for the as-of period) or, for budget_variance,
-- the last day of the last complete month it sums (kpi_budget.measured_through). Source
-- coverage ends come from int_source_coverage; a source with no data at all does not
-- hold a row back (its own rows are absent). Staff KPIs are always complete. A KPI name
-- that maps to no source gets a null `complete`, which the not_null test stops.
-- Grain: one row per (period_grain, period_start, scope, scope_id, kpi).
{%- set kpi_models = [
    'kpi_access',
    'kpi_production',
    'kpi_revenue_cycle',
    'kpi_cost',
    'kpi_provider_fte',
    'kpi_budget',
] %}
{%- set sources = kpi_sources() %}
{%- set staff_kpis = kpi_sources_staff() %}
{%- set budget_lines_of_sources = kpi_sources_budget_lines() %}
with

{% for kpi_model in kpi_models %}
    {{ kpi_model }} as (
        select * from {{ ref(kpi_model) }}
    ),
{% endfor %}

periods as (
    select * from {{ ref('int_periods') }}
),

coverage as (
    select * from {{ ref('int_source_coverage') }}
),

unioned as (
    {%- for kpi_model in kpi_models %}
        select
            period_grain,
            period_start,
            scope,
            scope_id,
            kpi,
            value,
            numerator,
            denominator,
            {{ 'measured_through' if kpi_model == 'kpi_budget' else 'cast(null as date)' }}
                as measured_through
        from {{ kpi_model }}
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

judged as (
    select
        unioned.period_grain,
        unioned.period_start,
        unioned.scope,
        unioned.scope_id,
        unioned.kpi,
        unioned.value,
        unioned.numerator,
        unioned.denominator,
        coalesce(unioned.measured_through, periods.period_end) as judged_day,
        unioned.kpi in (
            '{{ staff_kpis | join("', '") }}'
        )
            as is_staff_kpi,
        {%- for source in sources %}
            (
                unioned.kpi in (
                    '{{ sources[source]['names'] | join("', '") }}'
                )
                {%- for prefix in sources[source]['prefixes'] %}
                    or {{ dbt.position("'" ~ prefix ~ "'", 'unioned.kpi') }} = 1
                {%- endfor %}
            {%- if source == 'ledger' %}
                    {#- A budget line that is none of the four volume lines is a GL account. #}
                    or (
                        {{ dbt.position("'budget_variance_'", 'unioned.kpi') }} = 1
                        and unioned.kpi not in (
                            '{{ budget_lines_of_sources | join("', '") }}'
                        )
                    )
                {%- endif %}
            ) as reads_{{ source }},
        {%- endfor %}
    {%- for source in sources %}
        coverage.{{ source }}_end{{ ',' if not loop.last }}
    {%- endfor %}
    from unioned
    left join periods
        on unioned.period_grain = periods.period_grain
            and unioned.period_start = periods.period_start
    cross join coverage
)

select
    {{ kpi_columns() }},
    case
        when is_staff_kpi then true
        when
            not (
                {% for source in sources %}                    reads_{{ source }}{{ ' or ' if not loop.last }}                    {% endfor %}
            )
            then null
        when judged_day is null then null
        else
        {%- for source in sources %}
                (not reads_{{ source }} or {{ source }}_end is null or judged_day <= {{ source }}_end)
                {{- ' and' if not loop.last }}
        {%- endfor %}
    end as complete
from judged
