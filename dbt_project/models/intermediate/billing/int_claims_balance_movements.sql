-- Claim balances by day, as movements (KPI_SPEC.md "Revenue cycle", ar_balance): a
-- charge raises its claim's A/R by charge_amount on its posted_date, a refund raises it,
-- payer_payment, patient_payment, contractual_adjustment and write_off lower it, and a
-- denial never moves it. A/R is computed at claim level; a transaction without charge_id
-- applies to its claim. The balance of a claim at the end of day D is the sum of its
-- movements posted on or before D. Days with only a denial are kept (movement 0), since
-- any posting opens a scope's A/R rows ("Published outputs"). Each row carries the
-- claim's attribution and first_service_date so that A/R KPIs aggregate without joins.
-- Nothing posted after the as-of date counts.
-- A claim's balance splits into a debit part (max(balance, 0): owed to the practice,
-- aged into the A/R buckets) and a credit part (max(-balance, 0): ar_credit_balance,
-- money the practice may have to refund). Neither is additive over claims the way the
-- balance is, so each row also carries how the day moved the claim's debit and credit
-- parts (from its running balance): summed over days posted <= D they give the
-- claim's debit and credit balances at D, and stay additive over claims and scopes.
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
),

balances as (
    select
        claim_id,
        posted_date,
        charges_posted,
        ar_movement,
        sum(ar_movement) over (
            partition by claim_id
            order by posted_date
            rows between unbounded preceding and current row
        ) as balance_after
    from daily
),

split as (
    select
        claim_id,
        posted_date,
        charges_posted,
        ar_movement,
        balance_after,
        balance_after - ar_movement as balance_before
    from balances
)

select
    split.claim_id,
    split.posted_date,
    claims.location_id,
    claims.provider_id,
    claims.first_service_date,
    split.charges_posted,
    split.ar_movement,
    {{ billing_money(
        'case when split.balance_after > 0 then split.balance_after else 0 end'
        ~ ' - case when split.balance_before > 0 then split.balance_before else 0 end'
    ) }} as debit_movement,
    {{ billing_money(
        'case when split.balance_after < 0 then -split.balance_after else 0 end'
        ~ ' - case when split.balance_before < 0 then -split.balance_before else 0 end'
    ) }} as credit_movement
from split
left join claims
    on split.claim_id = claims.claim_id
