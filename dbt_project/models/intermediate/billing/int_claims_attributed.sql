-- Claim attribution of KPI_SPEC.md "Revenue cycle": KPIs driven by transactions (payments,
-- A/R, initial_denial_rate, net_collection_rate) follow the claim, and a claim belongs to
-- the location and rendering provider of its first charge line (earliest service_date,
-- then lowest charge_id, compared as strings since ids are strings). Its
-- first_service_date ages its A/R. A claim with transactions but no charge line has no
-- attribution: it counts at practice scope only. Only lines posted up to the as-of date
-- count, because nothing dated later counts in any KPI.
-- Grain: one row per claim_id found in claims, charges or transactions.
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
    select * from {{ ref('stg_billing__claims') }}
),

ranked_lines as (
    select
        charges.claim_id,
        charges.charge_id,
        charges.location_id,
        charges.rendering_provider_id,
        charges.service_date,
        row_number() over (
            partition by charges.claim_id
            order by charges.service_date, charges.charge_id
        ) as line_rank
    from charges
    inner join as_of
        on charges.posted_date <= as_of.as_of_date
),

first_lines as (
    select * from ranked_lines
    where line_rank = 1
),

claim_ids as (
    select claim_id from claims
    union
    select claim_id from charges
    union
    select claim_id from transactions
)

select
    claim_ids.claim_id,
    first_lines.charge_id as first_charge_id,
    first_lines.location_id,
    first_lines.rendering_provider_id as provider_id,
    first_lines.service_date as first_service_date,
    first_lines.charge_id is not null as has_charge_line
from claim_ids
left join first_lines
    on claim_ids.claim_id = first_lines.claim_id
