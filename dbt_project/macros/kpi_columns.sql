{#-
  The published columns of KPI_SPEC.md "Published outputs", with their exact types, for
  the final select of a KPI model: every kpi_* model and kpi_values agree on them, so the
  union in kpi_values never depends on one model's inferred types.
-#}
{% macro kpi_columns() -%}
    cast(period_grain as {{ dbt.type_string() }}) as period_grain,
    cast(period_start as date) as period_start,
    cast(scope as {{ dbt.type_string() }}) as scope,
    cast(scope_id as {{ dbt.type_string() }}) as scope_id,
    cast(kpi as {{ dbt.type_string() }}) as kpi,
    cast(value as double) as value,
    cast(numerator as double) as numerator,
    cast(denominator as double) as denominator
{%- endmacro %}
