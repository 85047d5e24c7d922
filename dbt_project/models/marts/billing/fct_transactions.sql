-- Payments, adjustments, write-offs, denials and refunds (CONTRACTS.md transactions),
-- with what KPI_SPEC.md "Revenue cycle" needs to attribute them:
-- - location_id / provider_id: the claim's attribution (its first charge line); null for
--   a claim without a charge line, which counts at practice scope only;
-- - cohort_service_month: the service month the transaction follows for
--   net_collection_rate: its charge's, or without charge_id (or with a charge_id that
--   matches no charge) its claim's first line's;
-- - ar_movement and payment (int_transactions_typed), and the CARC group and reason
--   descriptions of reason_code.
-- Grain: one row per transaction (transaction_id).
with

transactions as (
    select * from {{ ref('int_transactions_typed') }}
),

charges as (
    select * from {{ ref('int_charges_priced') }}
),

claims as (
    select * from {{ ref('int_claims_attributed') }}
),

reason_codes as (
    select * from {{ ref('carc_reason_codes') }}
),

group_codes as (
    select * from {{ ref('carc_group_codes') }}
)

select
    transactions.transaction_id,
    transactions.claim_id,
    transactions.charge_id,
    transactions.posted_date,
    transactions.transaction_type,
    transactions.amount,
    transactions.ar_movement,
    transactions.payment,
    claims.location_id,
    claims.provider_id,
    claims.first_service_date as claim_first_service_date,
    cast({{ dbt.date_trunc('month', 'coalesce(charges.service_date, claims.first_service_date)') }} as date)
        as cohort_service_month,
    charges.charge_id is not null as has_known_charge,
    transactions.reason_code,
    transactions.carc_group_code,
    group_codes.description as carc_group_description,
    transactions.carc_code,
    reason_codes.description as carc_reason_description,
    transactions.delivery_id,
    transactions.source_file,
    transactions.source_line
from transactions
left join charges
    on transactions.charge_id = charges.charge_id
left join claims
    on transactions.claim_id = claims.claim_id
left join group_codes
    on transactions.carc_group_code = group_codes.group_code
left join reason_codes
    on transactions.carc_code = reason_codes.carc_code
