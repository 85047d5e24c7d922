-- Claims with their attribution and revenue-cycle state at the as-of date
-- (KPI_SPEC.md "Revenue cycle"): location_id and provider_id of the first charge line
-- (earliest service_date, then lowest charge_id), null for a claim with transactions but
-- no charge line (practice scope only); first_service_date, which ages its A/R; the first
-- payer response and whether it was an initial denial; the A/R balance at the as-of date.
-- payer_id is the claim's as submitted (claims.csv), null for a claim missing there.
-- Grain: one row per claim_id found in claims, charges or transactions.
with

claims as (
    select * from {{ ref('int_claims_attributed') }}
),

submitted as (
    select * from {{ ref('stg_billing__claims') }}
),

payers as (
    select * from {{ ref('dim_payers') }}
),

charges as (
    select * from {{ ref('fct_charges') }}
),

first_responses as (
    select * from {{ ref('int_claims_first_response') }}
),

movements as (
    select * from {{ ref('int_claims_balance_movements') }}
),

lines as (
    select
        claim_id,
        count(*) as charge_lines,
        sum(charge_amount) as charge_amount,
        sum(work_rvus) as work_rvus
    from charges
    group by claim_id
),

balances as (
    select
        claim_id,
        sum(ar_movement) as ar_balance
    from movements
    group by claim_id
)

select
    claims.claim_id,
    submitted.payer_id,
    case when submitted.claim_id is not null then coalesce(payers.financial_class, 'unknown') end
        as financial_class,
    submitted.submitted_date,
    submitted.claim_id is not null as in_claims_file,
    claims.location_id,
    claims.provider_id,
    claims.first_charge_id,
    claims.first_service_date,
    claims.has_charge_line,
    coalesce(lines.charge_lines, 0) as charge_lines,
    coalesce(lines.charge_amount, 0) as charge_amount,
    coalesce(lines.work_rvus, 0) as work_rvus,
    first_responses.first_response_date,
    first_responses.is_initial_denial,
    coalesce(balances.ar_balance, 0) as ar_balance
from claims
left join submitted
    on claims.claim_id = submitted.claim_id
left join payers
    on submitted.payer_id = payers.payer_id
left join lines
    on claims.claim_id = lines.claim_id
left join first_responses
    on claims.claim_id = first_responses.claim_id
left join balances
    on claims.claim_id = balances.claim_id
