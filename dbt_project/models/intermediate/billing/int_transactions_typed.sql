-- Transactions typed once for every billing model (KPI_SPEC.md "Revenue cycle"):
-- transaction_type compared ignoring case; ar_movement, the signed effect on the claim's
-- A/R (payments, contractual adjustments and write-offs lower it, refunds raise it, a
-- denial never moves it); payment, the signed effect on payments (payer and patient
-- payments minus refunds); reason_code split into its CARC group and reason (`CO-45` =
-- group CO, reason 45; a code without a group is a bare reason).
-- A view: staging is already a table, and computing these columns again for each of the
-- four readers costs less than writing every transaction once more (on 4 M transactions
-- about 0.25 CPU-seconds per read against 5 for the table).
-- Grain: one row per transaction (transaction_id).
{{ config(materialized='view') }}
with

transactions as (
    select * from {{ ref('stg_billing__transactions') }}
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
)

select
    transaction_id,
    claim_id,
    charge_id,
    posted_date,
    transaction_type,
    {{ billing_money('amount') }} as amount,
    {{ billing_ar_movement('transaction_type', 'amount') }} as ar_movement,
    {{ billing_payment('transaction_type', 'amount') }} as payment,
    reason_code,
    case
        when reason_code like '%-%' then trim({{ dbt.split_part('reason_code', "'-'", 1) }})
    end as carc_group_code,
    case
        when reason_code like '%-%' then trim({{ dbt.split_part('reason_code', "'-'", 2) }})
        else reason_code
    end as carc_code,
    delivery_id,
    source_file,
    source_line
from typed
