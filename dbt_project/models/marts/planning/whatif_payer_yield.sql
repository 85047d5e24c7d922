-- Gross charges (by service date) and payments (by posted date) per financial class over
-- the what-if baseline's window (whatif_baseline: the trailing twelve complete months),
-- practice and location scope: each class's collections per charge dollar, which the
-- what-if panel moves when a user shifts the payer mix or a class's fees. Charges follow
-- their line's location, payments their claim's (KPI_SPEC.md "Revenue cycle").
-- Grain: one row per (scope, scope_id, financial_class).
with

charges as (
    select * from {{ ref('fct_charges') }}
),

transactions as (
    select * from {{ ref('fct_transactions') }}
),

claims as (
    select * from {{ ref('fct_claims') }}
),

window_bounds as (
    select
        min(window_start) as window_start,
        cast({{ dbt.last_day('min(window_end)', 'month') }} as date) as window_last_day
    from {{ ref('whatif_baseline') }}
    where scope = 'practice'
),

charged as (
    select
        charges.location_id,
        charges.financial_class,
        charges.charge_amount as gross_charges,
        0.0 as payments
    from charges
    cross join window_bounds
    where charges.service_date between window_bounds.window_start and window_bounds.window_last_day
),

paid as (
    select
        transactions.location_id,
        claims.financial_class,
        0.0 as gross_charges,
        transactions.payment as payments
    from transactions
    inner join claims
        on transactions.claim_id = claims.claim_id
    cross join window_bounds
    where transactions.posted_date between window_bounds.window_start and window_bounds.window_last_day
),

moved as (
    select * from charged
    union all
    select * from paid
)

select
    cast('location' as {{ dbt.type_string() }}) as scope,
    cast(location_id as {{ dbt.type_string() }}) as scope_id,
    cast(financial_class as {{ dbt.type_string() }}) as financial_class,
    cast(sum(gross_charges) as double) as gross_charges,
    cast(sum(payments) as double) as payments
from moved
where location_id is not null and financial_class is not null
group by location_id, financial_class
union all
select
    cast('practice' as {{ dbt.type_string() }}) as scope,
    cast('all' as {{ dbt.type_string() }}) as scope_id,
    cast(financial_class as {{ dbt.type_string() }}) as financial_class,
    cast(sum(gross_charges) as double) as gross_charges,
    cast(sum(payments) as double) as payments
from moved
where financial_class is not null
group by financial_class
