-- The delivery ledger for the data-quality page: every delivered file with its counts
-- and status, and whether CONTRACTS.md's balance "rows received = rows loaded + rows
-- rejected" holds for it.
-- Grain: one row per delivered file (a ledger row).
with

ledger as (
    select * from {{ source('landing', 'ledger') }}
)

select
    delivery_id,
    source,
    entity,
    file_name,
    sha256,
    size_bytes,
    received_at,
    mode,
    status,
    rows_received,
    rows_loaded,
    rows_rejected,
    rows_duplicate_key,
    error,
    coalesce(rows_received = rows_loaded + rows_rejected, false) as rows_balance
from ledger
