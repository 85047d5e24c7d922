-- Claim balances by day, as movements (KPI_SPEC.md "Revenue cycle", ar_balance): a
-- charge raises its claim's A/R by charge_amount on its posted_date, a refund raises it,
-- payer_payment, patient_payment, contractual_adjustment and write_off lower it, and a
-- denial never moves it. A/R is computed at claim level; a transaction without charge_id
-- applies to its claim. The balance of a claim at the end of day D is the sum of its
-- movements posted on or before D. Days with only a denial are kept (movement 0), since
-- any posting opens a scope's A/R rows ("Published outputs"). Each row carries the
-- claim's attribution and first_service_date so that A/R KPIs aggregate without joins.
-- Nothing posted after the as-of date counts.
-- Grain: one row per (claim_id, posted_date) with a charge or transaction posted.
with

as_of as (
    select as_of_date from {{ ref('int_as_of') }}
),

charges as (
    select * from {{ ref('int_charges_priced') }}
),

transactions as (
    select * from {{ ref('int_transactions_typed') }}
),

claims as (
    select * from {{ ref('int_claims_attributed') }}
),

postings as (
    select
        claim_id,
        posted_date,
        charge_amount as charges_posted,
        charge_amount as ar_movement
    from charges
    union all
    select
        claim_id,
        posted_date,
        {{ billing_money(0) }} as charges_posted,
        ar_movement
    from transactions
),

daily as (
    select
        postings.claim_id,
        postings.posted_date,
        sum(postings.charges_posted) as charges_posted,
        sum(postings.ar_movement) as ar_movement
    from postings
    inner join as_of
        on postings.posted_date <= as_of.as_of_date
    group by postings.claim_id, postings.posted_date
)

select
    daily.claim_id,
    daily.posted_date,
    claims.location_id,
    claims.provider_id,
    claims.first_service_date,
    daily.charges_posted,
    daily.ar_movement
from daily
left join claims
    on daily.claim_id = claims.claim_id
