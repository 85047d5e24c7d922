-- The delivery ledger for the data-quality page: every delivered file with its counts
-- and status, and whether CONTRACTS.md's balance "rows received = rows loaded + rows
-- rejected" (+ rows a mapping route's `where` filtered out) holds for it.
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
    coalesce(rows_filtered, 0) as rows_filtered,
    route,
    error,
    coalesce(
        rows_received = rows_loaded + rows_rejected + coalesce(rows_filtered, 0), false
    ) as rows_balance
from ledger
