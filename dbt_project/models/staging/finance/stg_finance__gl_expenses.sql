-- Monthly non-labour operating expenses from the ledger.
-- Grain: one row per month, location and GL account, the newest version of its key.
with

newest as (
    {{ newest_version(source('lake', 'gl_expenses'), ['month', 'location_id', 'account']) }}
)

select
    month,
    location_id,
    account,
    amount,
    _delivery_id as delivery_id,
    _source_file as source_file,
    _line as source_line
from newest
