{#-
  Engine-specific SQL lives only here, behind adapter.dispatch, so that the same models
  run on DuckDB and (issue 10) on Spark. A `default__` version is portable SQL; SQL only
  DuckDB speaks is named `duckdb__`, beside its `spark__` twin, so that an engine with
  neither fails at compile time instead of running DuckDB's SQL.
-#}

{#- A rate that is null, never 0 and never an error, when its denominator is 0 (KPI_SPEC.md). -#}
{% macro safe_divide(numerator, denominator) -%}
    {{ return(adapter.dispatch('safe_divide', 'clinicops')(numerator, denominator)) }}
{%- endmacro %}
{% macro default__safe_divide(numerator, denominator) -%}
    case
        when ({{ denominator }}) is null or ({{ denominator }}) = 0 then null
        else cast({{ numerator }} as double) / cast({{ denominator }} as double)
    end
{%- endmacro %}

{#- Continuous quantile with linear interpolation (DuckDB's quantile_cont). -#}
{% macro quantile_cont(expression, fraction) -%}
    {{ return(adapter.dispatch('quantile_cont', 'clinicops')(expression, fraction)) }}
{%- endmacro %}
{% macro duckdb__quantile_cont(expression, fraction) -%}
    quantile_cont({{ expression }}, {{ fraction }})
{%- endmacro %}
{% macro spark__quantile_cont(expression, fraction) -%}
    percentile({{ expression }}, {{ fraction }})
{%- endmacro %}

{#-
  Wall-clock minutes from one local timestamp to another, fractional, signed. Engines
  truncate `datediff(minute, …)` differently, so durations go through epoch seconds.
-#}
{% macro minutes_between(start_ts, end_ts) -%}
    {{ return(adapter.dispatch('minutes_between', 'clinicops')(start_ts, end_ts)) }}
{%- endmacro %}
{% macro duckdb__minutes_between(start_ts, end_ts) -%}
    (cast(epoch({{ end_ts }}) as double) - cast(epoch({{ start_ts }}) as double)) / 60.0
{%- endmacro %}
{% macro spark__minutes_between(start_ts, end_ts) -%}
    (cast(unix_micros({{ end_ts }}) as double) - cast(unix_micros({{ start_ts }}) as double)) / 60000000.0
{%- endmacro %}

{#- Whole calendar days from one date to another (end − start). -#}
{% macro days_between(start_date, end_date) -%}
    {{ return(adapter.dispatch('days_between', 'clinicops')(start_date, end_date)) }}
{%- endmacro %}
{% macro duckdb__days_between(start_date, end_date) -%}
    cast(date_diff('day', cast({{ start_date }} as date), cast({{ end_date }} as date)) as bigint)
{%- endmacro %}
{% macro spark__days_between(start_date, end_date) -%}
    cast(datediff(cast({{ end_date }} as date), cast({{ start_date }} as date)) as bigint)
{%- endmacro %}

{#-
  A lake timestamp in its location's local time. Landing keeps the wall-clock value as
  written plus the UTC offset written with it (pipelines/core/contracts.py): with an offset
  and a location timezone, convert; otherwise the wall-clock time is used as written
  (CONTRACTS.md: "At a location without a timezone, an offset is dropped").
-#}
{% macro to_local_ts(ts, offset_minutes, timezone) -%}
    {{ return(adapter.dispatch('to_local_ts', 'clinicops')(ts, offset_minutes, timezone)) }}
{%- endmacro %}
{% macro duckdb__to_local_ts(ts, offset_minutes, timezone) -%}
    case
        when {{ ts }} is null then null
        when {{ offset_minutes }} is null or {{ timezone }} is null then {{ ts }}
        else timezone(
            {{ timezone }},
            timezone('UTC', {{ ts }} - to_minutes(cast({{ offset_minutes }} as bigint)))
        )
    end
{%- endmacro %}
{#- from_utc_timestamp gives a session-zone timestamp; the lake's are wall-clock
    (timestamp_ntz), like DuckDB's TIMESTAMP, and the session zone is UTC. -#}
{% macro spark__to_local_ts(ts, offset_minutes, timezone) -%}
    case
        when {{ ts }} is null then null
        when {{ offset_minutes }} is null or {{ timezone }} is null then {{ ts }}
        else cast(from_utc_timestamp(
            {{ ts }} - make_interval(0, 0, 0, 0, 0, cast({{ offset_minutes }} as int), 0),
            {{ timezone }}
        ) as timestamp_ntz)
    end
{%- endmacro %}

{#- A date plus a whole number of days. -#}
{% macro add_days(date_expr, days) -%}
    cast({{ dbt.dateadd('day', days, date_expr) }} as date)
{%- endmacro %}

{#- One row per calendar day from start_date to end_date inclusive, column `day`. -#}
{% macro day_series(start_date, end_date) -%}
    {{ return(adapter.dispatch('day_series', 'clinicops')(start_date, end_date)) }}
{%- endmacro %}
{% macro duckdb__day_series(start_date, end_date) -%}
    select cast(series.day as date) as day
    from (
        select unnest(generate_series(
            cast({{ start_date }} as timestamp), cast({{ end_date }} as timestamp), interval 1 day
        )) as day
    ) as series
{%- endmacro %}
{% macro spark__day_series(start_date, end_date) -%}
    select explode(sequence(cast({{ start_date }} as date), cast({{ end_date }} as date), interval 1 day)) as day
{%- endmacro %}
