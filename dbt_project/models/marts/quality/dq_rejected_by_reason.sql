-- Rejections counted by entity, column and reason for the data-quality page.
-- Grain: one row per (entity, column_name, reason).
with

rejected_rows as (
    select * from {{ ref('dq_rejected_rows') }}
)

select
    entity,
    column_name,
    reason,
    count(*) as rejections,
    count(distinct source_file) as files,
    min(delivery_id) as first_delivery_id,
    max(delivery_id) as last_delivery_id
from rejected_rows
group by entity, column_name, reason
