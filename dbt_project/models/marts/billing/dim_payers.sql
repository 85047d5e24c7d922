-- Payers with their financial class (KPI_SPEC.md payer_mix). A payer referenced by a
-- charge or claim but missing from payers.csv is kept with financial_class 'unknown',
-- so that every charge finds its payer here and payer mix shows it as its own class.
-- Grain: one row per payer_id.
with

payers as (
    select * from {{ ref('stg_billing__payers') }}
),

charges as (
    select * from {{ ref('int_charges_priced') }}
),

claims as (
    select * from {{ ref('stg_billing__claims') }}
),

referenced as (
    select payer_id from charges
    union
    select payer_id from claims
),

missing as (
    select referenced.payer_id
    from referenced
    left join payers
        on referenced.payer_id = payers.payer_id
    where payers.payer_id is null
        and referenced.payer_id is not null
)

select
    payer_id,
    payer_name,
    coalesce(lower(trim(financial_class)), 'unknown') as financial_class,
    true as is_in_payer_list
from payers
union all
select
    payer_id,
    cast(null as {{ dbt.type_string() }}) as payer_name,
    'unknown' as financial_class,
    false as is_in_payer_list
from missing
