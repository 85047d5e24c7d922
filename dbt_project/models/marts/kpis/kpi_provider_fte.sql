-- visits_per_provider_fte and work_rvus_per_provider_fte of KPI_SPEC.md "Provider
-- productivity": completed_visits (kpi_access) and work_rvus (kpi_production) over
-- provider FTE, in the long shape of "Published outputs". They are flow KPIs: a row
-- wherever the numerator's KPI has a row (KPI_SPEC.md), with the numerator read from
-- there so that each KPI is defined once.
-- Provider FTE is taken at D = the period's last day (shortened at the as-of date):
-- the fte of staff with a provider_id and a clinician role active on D
-- (int_staff_active_by_day.is_provider). At provider scope, the FTE of that provider's
-- staff row(s); at location scope, the provider FTE of staff whose home location it is
-- (not where the visits or charges happened); at practice scope, all of it
-- (docs/interpretations.md). No provider FTE on D gives a null value.
-- Grain: one row per (period_grain, period_start, scope, scope_id, kpi).
with

access_kpis as (
    select * from {{ ref('kpi_access') }}
),

production_kpis as (
    select * from {{ ref('kpi_production') }}
),

periods as (
    select * from {{ ref('int_periods') }}
),

staff_days as (
    select * from {{ ref('int_staff_active_by_day') }}
),

numerators as (
    select
        period_grain,
        period_start,
        scope,
        scope_id,
        'visits_per_provider_fte' as kpi,
        value as numerator
    from access_kpis
    where kpi = 'completed_visits'
    union all
    select
        period_grain,
        period_start,
        scope,
        scope_id,
        'work_rvus_per_provider_fte' as kpi,
        value as numerator
    from production_kpis
    where kpi = 'work_rvus'
),

provider_days as (
    select
        day,
        provider_id,
        location_id,
        fte
    from staff_days
    where is_provider
),

provider_fte_by_day as (
    select
        day,
        'practice' as scope,
        'all' as scope_id,
        sum(fte) as provider_fte
    from provider_days
    group by day
    union all
    select
        day,
        'location' as scope,
        location_id as scope_id,
        sum(fte) as provider_fte
    from provider_days
    group by day, location_id
    union all
    select
        day,
        'provider' as scope,
        provider_id as scope_id,
        sum(fte) as provider_fte
    from provider_days
    group by day, provider_id
),

rated as (
    select
        numerators.period_grain,
        numerators.period_start,
        numerators.scope,
        numerators.scope_id,
        numerators.kpi,
        cast(numerators.numerator as double) as numerator,
        coalesce(cast(provider_fte_by_day.provider_fte as double), 0.0) as denominator
    from numerators
    left join periods
        on numerators.period_grain = periods.period_grain
            and numerators.period_start = periods.period_start
    left join provider_fte_by_day
        on periods.period_end = provider_fte_by_day.day
            and numerators.scope = provider_fte_by_day.scope
            and numerators.scope_id = provider_fte_by_day.scope_id
)

select
    cast(period_grain as {{ dbt.type_string() }}) as period_grain,
    cast(period_start as date) as period_start,
    cast(scope as {{ dbt.type_string() }}) as scope,
    cast(scope_id as {{ dbt.type_string() }}) as scope_id,
    cast(kpi as {{ dbt.type_string() }}) as kpi,
    cast({{ safe_divide('numerator', 'denominator') }} as double) as value,
    numerator,
    denominator
from rated
