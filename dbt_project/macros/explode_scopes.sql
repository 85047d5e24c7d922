{#-
  Every KPI is reported per week, month, fiscal quarter and fiscal year, for the
  practice, each location and (where it has one) each provider (KPI_SPEC.md "Calendar
  and grain"). This fans each input row out to the twelve (grain, scope) buckets it
  belongs to (period_grains(), macros/fiscal_periods.sql), so that a KPI model aggregates
  once with `group by period_grain, period_start, scope, scope_id` and rates are
  recomputed from numerators and denominators at every grain, never averaged.

  from_relation: a ref or CTE name; date_column: the local date the row is bucketed by;
  location_column / provider_column: scope ids, provider_column=none for KPIs with no
  provider scope (costs). Rows whose scope id is null are left out of that scope only.
  grains: the grains to fan out to, all of them by default (a KPI reported at one grain
  only, like net_collection_rate, names it).
-#}
{% macro explode_scopes(from_relation, date_column, location_column='location_id', provider_column='provider_id', grains=none) -%}
    {%- set scopes = [('practice', "'all'"), ('location', location_column)] -%}
    {%- if provider_column -%}{%- do scopes.append(('provider', provider_column)) -%}{%- endif -%}
    {%- for grain in (grains or period_grains()) -%}
        {%- set outer_last = loop.last -%}
        {%- for scope, scope_expression in scopes %}

    select
        '{{ grain }}' as period_grain,
        {{ period_start_of(grain, date_column) }} as period_start,
        '{{ scope }}' as scope,
        cast({{ scope_expression }} as {{ dbt.type_string() }}) as scope_id,
        exploded.*
    from {{ from_relation }} as exploded
            {%- if scope != 'practice' %}
    where {{ scope_expression }} is not null
            {%- endif %}
            {%- if not (outer_last and loop.last) %}
    union all
            {%- endif -%}
        {%- endfor -%}
    {%- endfor %}
{%- endmacro %}
