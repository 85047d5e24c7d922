-- Production KPIs of KPI_SPEC.md "Provider productivity" and "Revenue cycle":
-- - work_rvus: sum of work RVU x units (fct_charges prices each line), by service_date;
-- - gross_charges: sum of charge_amount, by service_date;
-- - charge_lag_days: median (continuous) of posted_date - service_date, by service_date;
-- - payer_mix_<financial_class>: the class's share of gross_charges, a row per class
--   present in the period and scope (numerator = the class's charges, denominator = the
--   scope's gross charges; a payer missing from payers.csv is class 'unknown').
-- Production follows each charge line's own location and rendering provider. Rows exist
-- where the scope has charges in the period. Only charges posted up to the as-of date
-- count (nothing dated later counts; docs/interpretations.md).
-- Grain: one row per (period_grain, period_start, scope, scope_id, kpi).
with

as_of as (
    select as_of_date from {{ ref('int_as_of') }}
),

fct_charges as (
    select * from {{ ref('fct_charges') }}
),

charges as (
    select
        fct_charges.location_id,
        fct_charges.rendering_provider_id,
        fct_charges.service_date,
        fct_charges.financial_class,
        fct_charges.charge_lag_days,
        fct_charges.charge_amount,
        fct_charges.work_rvus
    from fct_charges
    inner join as_of
        on fct_charges.posted_date <= as_of.as_of_date
),

scoped as (
    {{ explode_scopes('charges', 'service_date', 'location_id', 'rendering_provider_id') }}
),

totals as (
    select
        period_grain,
        period_start,
        scope,
        scope_id,
        sum(work_rvus) as work_rvus,
        sum(charge_amount) as gross_charges,
        {{ quantile_cont('charge_lag_days', 0.5) }} as charge_lag_days
    from scoped
    group by period_grain, period_start, scope, scope_id
),

by_class as (
    select
        period_grain,
        period_start,
        scope,
        scope_id,
        financial_class,
        sum(charge_amount) as class_charges
    from scoped
    group by period_grain, period_start, scope, scope_id, financial_class
),

kpis as (
    select
        period_grain,
        period_start,
        scope,
        scope_id,
        'work_rvus' as kpi,
        cast(work_rvus as double) as value,
        cast(work_rvus as double) as numerator,
        cast(null as double) as denominator
    from totals
    union all
    select
        period_grain,
        period_start,
        scope,
        scope_id,
        'gross_charges' as kpi,
        cast(gross_charges as double) as value,
        cast(gross_charges as double) as numerator,
        cast(null as double) as denominator
    from totals
    union all
    select
        period_grain,
        period_start,
        scope,
        scope_id,
        'charge_lag_days' as kpi,
        cast(charge_lag_days as double) as value,
        cast(null as double) as numerator,
        cast(null as double) as denominator
    from totals
    union all
    select
        by_class.period_grain,
        by_class.period_start,
        by_class.scope,
        by_class.scope_id,
        {{ dbt.concat(["'payer_mix_'", 'by_class.financial_class']) }} as kpi,
        {{ safe_divide('by_class.class_charges', 'totals.gross_charges') }} as value,
        cast(by_class.class_charges as double) as numerator,
        cast(totals.gross_charges as double) as denominator
    from by_class
    inner join totals
        on by_class.period_grain = totals.period_grain
            and by_class.period_start = totals.period_start
            and by_class.scope = totals.scope
            and by_class.scope_id = totals.scope_id
)

select
    cast(period_grain as {{ dbt.type_string() }}) as period_grain,
    cast(period_start as date) as period_start,
    cast(scope as {{ dbt.type_string() }}) as scope,
    cast(scope_id as {{ dbt.type_string() }}) as scope_id,
    cast(kpi as {{ dbt.type_string() }}) as kpi,
    value,
    numerator,
    denominator
from kpis
