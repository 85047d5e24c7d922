{#- Schemas are named by layer only (staging, intermediate, marts, reference), not
    prefixed with the target schema, so that the published database reads
    `marts.kpi_values` exactly as KPI_SPEC.md names it. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}{{ target.schema }}{%- else -%}{{ custom_schema_name | trim }}{%- endif -%}
{%- endmacro %}
