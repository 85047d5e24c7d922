{#-
  The four reporting grains of KPI_SPEC.md "Calendar and grain": ISO weeks named by their
  Monday, calendar months, and the quarters and years of the practice's fiscal year
  (var `fiscal_year_start_month`, 1 = January, from the practice config), each named by
  its first day. Written with dbt's cross-database macros so Spark keeps parity.
-#}

{#- The grains every KPI is computed at, finest first. -#}
{% macro period_grains() -%}
    {{ return(['week', 'month', 'quarter', 'year']) }}
{%- endmacro %}

{#- The fiscal year's first month, checked: 1..12. -#}
{% macro fiscal_year_start_month() -%}
    {%- set raw = var('fiscal_year_start_month', 1) -%}
    {%- set month = (raw | string | trim or '1') | int(-1) -%}
    {%- if month < 1 or month > 12 -%}
        {{ exceptions.raise_compiler_error("var fiscal_year_start_month must be a month number 1..12, got " ~ raw) }}
    {%- endif -%}
    {{ return(month) }}
{%- endmacro %}

{#-
  The first day of the `grain` period holding the date `date_expr`. A fiscal quarter
  or year starts at the month start that lies (month - fiscal start) mod 3 (or 12)
  months back.
-#}
{% macro period_start_of(grain, date_expr) -%}
    {%- if grain in ('week', 'month') -%}
        cast({{ dbt.date_trunc(grain, date_expr) }} as date)
    {%- elif grain in ('quarter', 'year') -%}
        {%- set span = 3 if grain == 'quarter' else 12 -%}
        {%- set months_back -%}
            -1 * ((cast(extract(month from {{ date_expr }}) as int) + {{ 12 - fiscal_year_start_month() }}) % {{ span }})
        {%- endset -%}
        cast({{ dbt.dateadd('month', months_back, dbt.date_trunc('month', date_expr)) }} as date)
    {%- else -%}
        {{ exceptions.raise_compiler_error("unknown period grain " ~ grain) }}
    {%- endif -%}
{%- endmacro %}

{#- The natural last day of the `grain` period that starts on `start_expr`. -#}
{% macro period_natural_end(grain, start_expr) -%}
    {%- if grain == 'week' -%}
        {{ add_days(start_expr, 6) }}
    {%- else -%}
        {%- set months = {'month': 1, 'quarter': 3, 'year': 12}[grain] -%}
        {{ add_days(dbt.dateadd('month', months, start_expr), -1) }}
    {%- endif -%}
{%- endmacro %}
