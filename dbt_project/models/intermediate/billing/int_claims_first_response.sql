-- The first payer response of each claim (KPI_SPEC.md initial_denial_rate): the earliest
-- posted payer_payment, contractual_adjustment or denial on any of its lines. The claim is
-- an initial denial when that first-response day includes a denial of any of its lines,
-- also when a payment or adjustment was posted the same day. Patient payments, write-offs
-- and refunds are not payer responses. Nothing posted after the as-of date counts.
-- Grain: one row per claim with a payer response posted up to the as-of date.
with

as_of as (
    select as_of_date from {{ ref('int_as_of') }}
),

transactions as (
    select * from {{ ref('int_transactions_typed') }}
),

claims as (
    select * from {{ ref('int_claims_attributed') }}
),

responses as (
    select
        transactions.claim_id,
        transactions.posted_date,
        transactions.transaction_type = 'denial' as is_denial
    from transactions
    inner join as_of
        on transactions.posted_date <= as_of.as_of_date
    where transactions.transaction_type in ('payer_payment', 'contractual_adjustment', 'denial')
),

first_days as (
    select
        claim_id,
        min(posted_date) as first_response_date
    from responses
    group by claim_id
),

first_day_denials as (
    select
        first_days.claim_id,
        first_days.first_response_date,
        max(case when responses.is_denial then 1 else 0 end) = 1 as is_initial_denial
    from first_days
    inner join responses
        on first_days.claim_id = responses.claim_id
            and first_days.first_response_date = responses.posted_date
    group by first_days.claim_id, first_days.first_response_date
)

select
    first_day_denials.claim_id,
    first_day_denials.first_response_date,
    first_day_denials.is_initial_denial,
    claims.location_id,
    claims.provider_id
from first_day_denials
left join claims
    on first_day_denials.claim_id = claims.claim_id
