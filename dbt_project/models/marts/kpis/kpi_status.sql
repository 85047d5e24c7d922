-- The one status of every published KPI row (KPI_SPEC.md "Targets and status"): the
-- target band in force, its direction and source, and `partial`, `no_target`, `in_band`
-- or `out_of_band`, decided here once so that every screen, deck, digest and alert says
-- the same.
--
-- The band, first that applies:
-- 1. configuration: a band the practice set in its config file (kpi_targets.is_overridden);
-- 2. budget: completed_visits, gross_charges, payments (budget line collections) and
--    labor_cost at practice and location scope, from budget.csv. A month's target is its
--    budget row; a quarter or year sums its months; a week takes each month's budget ×
--    the week's days in that month / the month's days, so a week spanning two months
--    takes its share of each. All of these are one rule: each day of a month carries
--    budget / days in the month, and a period's target is the sum over its days, the
--    shortened as-of period over its days up to the as-of date. A period with a day in a
--    month without a budget row for the line has no budget target (a part-budget would
--    read as a miss). Visits, charges and collections are on target at or above it
--    (target_low), labour cost at or below it (target_high). Practice scope sums the
--    locations' budgets.
-- 3. specialty: visits and wRVUs per provider FTE at provider scope for physicians,
--    from the published annual figure for the physician's specialty (providers.csv; seed
--    kpi_specialty_benchmarks), scaled to the period's days (days / 365).
-- 4. default: the KPI's default band (kpi_targets, from kpi_target_defaults).
--
-- Status: `partial` when the row is not complete (never judged against a target);
-- `no_target` when no band applies or the value is null (a zero denominator cannot be
-- judged); else in or out of band, where a value beyond the band's good edge is in band
-- (26 days in A/R under a 30–40 band is better than target, not a miss): a
-- higher-is-better KPI is judged on its low edge, a lower-is-better one on its high
-- edge, a neutral one on both. band_gap says how far outside the band a value is,
-- relative to the edge it crosses (0 in band), so readers list the worst first
-- without judging. docs/kpi_targets.md explains each source.
-- Grain: one row per kpi_values row (period_grain, period_start, scope, scope_id, kpi).
with

kpi_values as (
    select * from {{ ref('kpi_values') }}
),

targets as (
    select * from {{ ref('kpi_targets') }}
),

periods as (
    select * from {{ ref('int_periods') }}
),

budget as (
    select * from {{ ref('stg_finance__budget') }}
),

providers as (
    select * from {{ ref('dim_providers') }}
),

specialty_benchmarks as (
    select * from {{ ref('kpi_specialty_benchmarks') }}
),

budget_months as (
    select
        cast(budget.month as date) as month_start,
        cast({{ dbt.last_day('budget.month', 'month') }} as date) as month_end,
        budget.location_id,
        case lower(trim(budget.line)) when 'collections' then 'payments' else lower(trim(budget.line)) end
            as kpi,
        cast(budget.amount as double) as amount
    from budget
    where lower(trim(budget.line)) in ('completed_visits', 'gross_charges', 'collections', 'labor_cost')
),

budget_by_scope as (
    select
        month_start,
        month_end,
        'location' as scope,
        location_id as scope_id,
        kpi,
        sum(amount) as amount
    from budget_months
    group by month_start, month_end, location_id, kpi
    union all
    select
        month_start,
        month_end,
        'practice' as scope,
        'all' as scope_id,
        kpi,
        sum(amount) as amount
    from budget_months
    group by month_start, month_end, kpi
),

budgeted_rows as (
    select
        kpi_values.period_grain,
        kpi_values.period_start,
        kpi_values.scope,
        kpi_values.scope_id,
        kpi_values.kpi,
        periods.period_end,
        periods.days_in_period
    from kpi_values
    inner join periods
        on kpi_values.period_grain = periods.period_grain
            and kpi_values.period_start = periods.period_start
    where kpi_values.kpi in ('completed_visits', 'gross_charges', 'payments', 'labor_cost')
        and kpi_values.scope in ('practice', 'location')
),

-- Each budget month's share of each period: the days they have in common.
budget_shares as (
    select
        budgeted_rows.period_grain,
        budgeted_rows.period_start,
        budgeted_rows.scope,
        budgeted_rows.scope_id,
        budgeted_rows.kpi,
        budgeted_rows.days_in_period,
        budget_by_scope.amount,
        {{ days_between('budget_by_scope.month_start', 'budget_by_scope.month_end') }} + 1 as month_days,
        {{ days_between(
            'greatest(budget_by_scope.month_start, budgeted_rows.period_start)',
            'least(budget_by_scope.month_end, budgeted_rows.period_end)'
        ) }} + 1 as shared_days
    from budgeted_rows
    inner join budget_by_scope
        on budgeted_rows.scope = budget_by_scope.scope
            and budgeted_rows.scope_id = budget_by_scope.scope_id
            and budgeted_rows.kpi = budget_by_scope.kpi
            and budgeted_rows.period_end >= budget_by_scope.month_start
            and budgeted_rows.period_start <= budget_by_scope.month_end
),

budget_targets as (
    select
        period_grain,
        period_start,
        scope,
        scope_id,
        kpi,
        sum(amount * shared_days / month_days) as budget_target
    from budget_shares
    group by period_grain, period_start, scope, scope_id, kpi, days_in_period
    having sum(shared_days) = days_in_period
),

specialty_targets as (
    select
        kpi_values.period_grain,
        kpi_values.period_start,
        kpi_values.scope,
        kpi_values.scope_id,
        kpi_values.kpi,
        specialty_benchmarks.annual_low * periods.days_in_period / 365.0 as target_low,
        specialty_benchmarks.annual_high * periods.days_in_period / 365.0 as target_high
    from kpi_values
    inner join periods
        on kpi_values.period_grain = periods.period_grain
            and kpi_values.period_start = periods.period_start
    inner join providers
        on kpi_values.scope_id = providers.provider_id
    inner join specialty_benchmarks
        on providers.specialty = specialty_benchmarks.specialty
            and kpi_values.kpi = specialty_benchmarks.kpi
    where kpi_values.scope = 'provider'
        -- The published figures are physicians'; an NP's or PA's output is not judged by them.
        and providers.role = 'physician'
),

banded as (
    select
        kpi_values.period_grain,
        kpi_values.period_start,
        kpi_values.scope,
        kpi_values.scope_id,
        kpi_values.kpi,
        kpi_values.value,
        kpi_values.complete,
        case
            when targets.is_overridden then 'configuration'
            when budget_targets.budget_target is not null then 'budget'
            when specialty_targets.kpi is not null then 'specialty'
            when targets.target_low is not null or targets.target_high is not null then 'default'
        end as target_source,
        targets.target_low as configured_low,
        targets.target_high as configured_high,
        targets.direction as configured_direction,
        budget_targets.budget_target,
        specialty_targets.target_low as specialty_low,
        specialty_targets.target_high as specialty_high
    from kpi_values
    left join targets
        on kpi_values.kpi = targets.kpi
    left join budget_targets
        on kpi_values.period_grain = budget_targets.period_grain
            and kpi_values.period_start = budget_targets.period_start
            and kpi_values.scope = budget_targets.scope
            and kpi_values.scope_id = budget_targets.scope_id
            and kpi_values.kpi = budget_targets.kpi
    left join specialty_targets
        on kpi_values.period_grain = specialty_targets.period_grain
            and kpi_values.period_start = specialty_targets.period_start
            and kpi_values.scope = specialty_targets.scope
            and kpi_values.scope_id = specialty_targets.scope_id
            and kpi_values.kpi = specialty_targets.kpi
),

chosen as (
    select
        period_grain,
        period_start,
        scope,
        scope_id,
        kpi,
        value,
        complete,
        target_source,
        case
            when target_source = 'budget' and kpi = 'labor_cost' then 'lower_is_better'
            when target_source = 'budget' then 'higher_is_better'
            else coalesce(configured_direction, 'neutral')
        end as direction,
        case
            when target_source = 'budget' and kpi <> 'labor_cost' then budget_target
            when target_source = 'specialty' then specialty_low
            when target_source in ('configuration', 'default') then configured_low
        end as target_low,
        case
            when target_source = 'budget' and kpi = 'labor_cost' then budget_target
            when target_source = 'specialty' then specialty_high
            when target_source in ('configuration', 'default') then configured_high
        end as target_high
    from banded
),

judged as (
    select
        *,
        -- The edge the value crosses, if any (only the edges its direction judges).
        case
            when direction <> 'higher_is_better' and target_high is not null and value > target_high
                then target_high
            when direction <> 'lower_is_better' and target_low is not null and value < target_low
                then target_low
        end as crossed_edge
    from chosen
)

select
    cast(period_grain as {{ dbt.type_string() }}) as period_grain,
    cast(period_start as date) as period_start,
    cast(scope as {{ dbt.type_string() }}) as scope,
    cast(scope_id as {{ dbt.type_string() }}) as scope_id,
    cast(kpi as {{ dbt.type_string() }}) as kpi,
    cast(target_low as double) as target_low,
    cast(target_high as double) as target_high,
    cast(direction as {{ dbt.type_string() }}) as direction,
    cast(coalesce(target_source, 'none') as {{ dbt.type_string() }}) as target_source,
    cast(
        case
            when not complete then 'partial'
            when target_low is null and target_high is null then 'no_target'
            when value is null then 'no_target'
            when crossed_edge is not null then 'out_of_band'
            else 'in_band'
        end as {{ dbt.type_string() }}
    ) as status,
    cast(
        case
            when not complete or value is null or (target_low is null and target_high is null) then null
            when crossed_edge is null then 0.0
            when crossed_edge = 0 then abs(value)
            else abs(value - crossed_edge) / abs(crossed_edge)
        end as double
    ) as band_gap
from judged
