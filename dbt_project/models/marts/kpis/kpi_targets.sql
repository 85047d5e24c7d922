-- Target band and direction of every KPI (KPI_SPEC.md "Targets and status": each KPI
-- has a direction and a default band from published benchmarks that the practice can
-- override in configuration). Names, directions and units come from the KPI catalog
-- (seed kpi_catalog), bands from the seed kpi_target_defaults (sources in
-- docs/kpi_targets.md); the pattern row `budget_variance_*` is expanded for every
-- budget line without a row of its own, so each name kpi_values can hold has a target.
-- This is the KPI's default band; marts.kpi_status adds the budget and specialty bands
-- and decides each row's status.
-- The practice's overrides arrive as the dbt var `target_overrides`, a mapping
-- kpi -> {low, high, direction} (pipelines/model/build.py passes the config file's `targets`);
-- a key that is present replaces the default, even with null (an open band edge), a
-- key that is absent keeps it.
-- Grain: one row per KPI name (kpi).
{% set overrides = var('target_overrides', {}) -%}
{%- if overrides is string -%}
    {%- set overrides = fromjson(overrides) if overrides | trim else {} -%}
{%- endif -%}
{%- if overrides is none -%}{%- set overrides = {} -%}{%- endif -%}
{%- if overrides is not mapping -%}
    {{ exceptions.raise_compiler_error("var target_overrides must be a mapping kpi -> {low, high, direction}") }}
{%- endif -%}
{%- set valid = modules.re.compile('^[a-z0-9_]+$') -%}

with

catalog as (
    select * from {{ ref('kpi_catalog') }}
),

target_defaults as (
    select * from {{ ref('kpi_target_defaults') }}
),

budget as (
    select * from {{ ref('stg_finance__budget') }}
),

budget_kpis as (
    select distinct {{ dbt.concat(["'budget_variance_'", 'lower(trim(line))']) }} as kpi
    from budget
),

-- Every KPI name of the catalog, its pattern row expanded for each budget line without
-- a row of its own; the band of the same name's target default (or of the pattern).
names as (
    select
        kpi,
        kpi as catalog_kpi
    from catalog
    where not is_pattern
    union all
    select
        budget_kpis.kpi,
        'budget_variance_*' as catalog_kpi
    from budget_kpis
    where budget_kpis.kpi not in (select kpi from catalog)
),

expanded as (
    select
        names.kpi,
        catalog.direction,
        target_defaults.target_low,
        target_defaults.target_high,
        catalog.unit,
        target_defaults.benchmark_value,
        coalesce(target_defaults.source, 'practice history') as source,
        target_defaults.source_url,
        target_defaults.source_year,
        coalesce(target_defaults.evidence_strength, 'none') as evidence_strength,
        target_defaults.note
    from names
    inner join catalog
        on names.catalog_kpi = catalog.kpi
    left join target_defaults
        on names.catalog_kpi = target_defaults.kpi
),

overrides as (
    {%- for kpi, band in overrides.items() %}
    {%- if not valid.match(kpi | string) -%}
        {{ exceptions.raise_compiler_error("target_overrides: invalid KPI name " ~ kpi) }}
    {%- endif -%}
    {%- if band is not mapping -%}
        {{ exceptions.raise_compiler_error("target_overrides." ~ kpi ~ " must be a mapping with low, high and/or direction") }}
    {%- endif -%}
    {%- for key in band -%}
        {%- if key not in ['low', 'high', 'direction'] -%}
            {{ exceptions.raise_compiler_error("target_overrides." ~ kpi ~ ": unknown key " ~ key) }}
        {%- endif -%}
    {%- endfor -%}
    {%- for key in ['low', 'high'] -%}
        {%- if band.get(key) is not none and band.get(key) is not number -%}
            {{ exceptions.raise_compiler_error("target_overrides." ~ kpi ~ "." ~ key ~ " must be a number or null") }}
        {%- endif -%}
    {%- endfor -%}
    {%- if band.get('direction') is not none and band.get('direction') not in ['higher_is_better', 'lower_is_better', 'neutral'] -%}
        {{ exceptions.raise_compiler_error("target_overrides." ~ kpi ~ ".direction must be higher_is_better, lower_is_better or neutral") }}
    {%- endif %}
    select
        '{{ kpi }}' as kpi,
        {{ 'true' if 'low' in band else 'false' }} as has_low,
        cast({{ band.low if band.get('low') is not none else 'null' }} as double) as low,
        {{ 'true' if 'high' in band else 'false' }} as has_high,
        cast({{ band.high if band.get('high') is not none else 'null' }} as double) as high,
        cast({{ "'" ~ band.direction ~ "'" if band.get('direction') is not none else 'null' }} as {{ dbt.type_string() }}) as direction
    union all
    {%- endfor %}
    select
        cast(null as {{ dbt.type_string() }}) as kpi,
        false as has_low,
        cast(null as double) as low,
        false as has_high,
        cast(null as double) as high,
        cast(null as {{ dbt.type_string() }}) as direction
    where 1 = 0
)

select
    expanded.kpi,
    coalesce(overrides.direction, expanded.direction) as direction,
    case when overrides.has_low then overrides.low else expanded.target_low end as target_low,
    case when overrides.has_high then overrides.high else expanded.target_high end as target_high,
    expanded.unit,
    expanded.benchmark_value,
    expanded.source,
    expanded.source_url,
    expanded.source_year,
    expanded.evidence_strength,
    expanded.note,
    overrides.kpi is not null as is_overridden,
    expanded.direction as default_direction,
    expanded.target_low as default_target_low,
    expanded.target_high as default_target_high
from expanded
left join overrides
    on expanded.kpi = overrides.kpi
