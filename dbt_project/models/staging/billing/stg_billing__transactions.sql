-- Payments, adjustments, write-offs, denials and refunds against claims.
-- Grain: one row per transaction, the newest version of its key.
{%- set key_columns = ['transaction_id'] %}
{{ config(
    unique_key=key_columns,
    pre_hook="{{ forget_before_newest_snapshot(source('lake', 'transactions')) }}",
) }}

with

newest as (
    {{ newest_version(source('lake', 'transactions'), key_columns) }}
)

select
    transaction_id,
    claim_id,
    charge_id,
    posted_date,
    transaction_type,
    amount,
    reason_code,
    _delivery_id as delivery_id,
    _source_file as source_file,
    _line as source_line
from newest
