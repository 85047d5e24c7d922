{#-
  Sources read the Parquet lake. dbt-duckdb reads each source's `meta.external_location`
  itself; Spark has no such hook, so before a Spark build every lake source becomes a
  view over the same Parquet files (the glob of its external_location, filtered on the
  ledger like it), in a database
  named like the source: `source('lake', 'charges')` is then `lake.charges` on both
  engines and no model forks. Run by `on-run-start` (dbt_project.yml).
-#}
{% macro create_lake_views() -%}
    {{ return(adapter.dispatch('create_lake_views', 'clinicops')()) }}
{%- endmacro %}

{#- DuckDB reads external locations directly: nothing to create. -#}
{% macro default__create_lake_views() -%}
    select 1
{%- endmacro %}

{% macro spark__create_lake_views() -%}
    {%- if execute -%}
        {%- set databases = [] -%}
        {%- for source in graph.sources.values() if source.package_name == project_name -%}
            {%- set location = source.meta.get('external_location') or source.source_meta.get('external_location') -%}
            {%- set glob = location.split("'")[1] | replace('{name}', source.name) -%}
            {%- if source.source_name not in databases -%}
                {%- do databases.append(source.source_name) -%}
                {%- do run_query('create database if not exists ' ~ source.source_name) -%}
            {%- endif -%}
            {#- The ledger filter of the external location (the ledger is the only door). -#}
            {%- set committed = '' -%}
            {%- if 'where _delivery_id in' in location -%}
                {%- set committed = " where _delivery_id in (select delivery_id from parquet.`"
                    ~ location.split("'")[3] ~ "` where status = 'loaded')" -%}
            {%- endif -%}
            {%- do run_query(
                'create or replace view ' ~ source.source_name ~ '.' ~ source.name
                ~ ' as select * from parquet.`' ~ glob ~ '`' ~ committed
            ) -%}
        {%- endfor -%}
    {%- endif -%}
    select 1
{%- endmacro %}
