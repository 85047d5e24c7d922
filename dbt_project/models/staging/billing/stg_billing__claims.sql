-- Claims as submitted to payers.
-- Grain: one row per claim, the newest version of its key.
with

newest as (
    {{ newest_version(source('lake', 'claims'), ['claim_id']) }}
)

select
    claim_id,
    payer_id,
    submitted_date,
    _delivery_id as delivery_id,
    _source_file as source_file,
    _line as source_line
from newest
