-- Payments, adjustments, write-offs, denials and refunds (CONTRACTS.md transactions),
-- with what KPI_SPEC.md "Revenue cycle" needs to attribute them:
-- - location_id / provider_id: the claim's attribution (its first charge line); null for
--   a claim without a charge line, which counts at practice scope only;
-- - cohort_service_month: the service month the transaction follows for
--   net_collection_rate: its charge's, or without charge_id (or with a charge_id that
--   matches no charge) its claim's first line's;
-- - ar_movement and payment: the signed effect on A/R and on payments;
-- - the CARC group and reason of reason_code (`CO-45` = group CO, reason 45) with their
--   descriptions.
-- Grain: one row per transaction (transaction_id).
with

transactions as (
    select * from {{ ref('stg_billing__transactions') }}
),

charges as (
    select * from {{ ref('stg_billing__charges') }}
),

claims as (
    select * from {{ ref('int_claims_attributed') }}
),

reason_codes as (
    select * from {{ ref('carc_reason_codes') }}
),

group_codes as (
    select * from {{ ref('carc_group_codes') }}
),

typed as (
    select
        transaction_id,
        claim_id,
        charge_id,
        posted_date,
        lower(trim(transaction_type)) as transaction_type,
        amount,
        nullif(upper(trim(reason_code)), '') as reason_code,
        delivery_id,
        source_file,
        source_line
    from transactions
),

coded as (
    select
        typed.*,
        case
            when typed.reason_code like '%-%' then trim({{ dbt.split_part('typed.reason_code', "'-'", 1) }})
        end as carc_group_code,
        case
            when typed.reason_code like '%-%' then trim({{ dbt.split_part('typed.reason_code', "'-'", 2) }})
            else typed.reason_code
        end as carc_code
    from typed
)

select
    coded.transaction_id,
    coded.claim_id,
    coded.charge_id,
    coded.posted_date,
    coded.transaction_type,
    {{ billing_money('coded.amount') }} as amount,
    {{ billing_ar_movement('coded.transaction_type', 'coded.amount') }} as ar_movement,
    {{ billing_payment('coded.transaction_type', 'coded.amount') }} as payment,
    claims.location_id,
    claims.provider_id,
    claims.first_service_date as claim_first_service_date,
    cast({{ dbt.date_trunc('month', 'coalesce(charges.service_date, claims.first_service_date)') }} as date)
        as cohort_service_month,
    charges.charge_id is not null as has_known_charge,
    coded.reason_code,
    coded.carc_group_code,
    group_codes.description as carc_group_description,
    coded.carc_code,
    reason_codes.description as carc_reason_description,
    coded.delivery_id,
    coded.source_file,
    coded.source_line
from coded
left join charges
    on coded.charge_id = charges.charge_id
left join claims
    on coded.claim_id = claims.claim_id
left join group_codes
    on coded.carc_group_code = group_codes.group_code
left join reason_codes
    on coded.carc_code = reason_codes.carc_code
