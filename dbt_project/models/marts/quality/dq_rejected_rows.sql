-- Rows kept aside at landing (CONTRACTS.md "Validation at landing"): where each came
-- from and why. The row as received (_raw) stays in the lake's rejected area and is not
-- published, so nothing of a row's content reaches the dashboards.
-- Grain: one row per rejected row and broken rule (delivery, file, line, column, reason).
with

rejected as (
    select * from {{ source('landing', 'rejected') }}
)

select
    _delivery_id as delivery_id,
    _source_file as source_file,
    _line as source_line,
    entity,
    {{ adapter.quote('column') }} as column_name,
    reason
from rejected
