-- Claims as submitted to payers.
-- Grain: one row per claim, the newest version of its key.
{%- set key_columns = ['claim_id'] %}
{{ config(
    unique_key=key_columns,
    pre_hook="{{ forget_before_newest_snapshot(source('lake', 'claims')) }}",
) }}

with

newest as (
    {{ newest_version(source('lake', 'claims'), key_columns) }}
)

select
    claim_id,
    payer_id,
    submitted_date,
    _delivery_id as delivery_id,
    _source_file as source_file,
    _line as source_line
from newest
