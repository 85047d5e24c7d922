-- Payments, adjustments, write-offs, denials and refunds against claims.
-- Grain: one row per transaction, the newest version of its key.
with

newest as (
    {{ newest_version(source('lake', 'transactions'), ['transaction_id']) }}
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
