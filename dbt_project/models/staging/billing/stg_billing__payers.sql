-- Insurers and other payers, with the financial class used for payer mix.
-- Grain: one row per payer, the newest version of its key.
with

newest as (
    {{ newest_version(source('lake', 'payers'), ['payer_id']) }}
)

select
    payer_id,
    payer_name,
    financial_class,
    _delivery_id as delivery_id,
    _source_file as source_file,
    _line as source_line
from newest
