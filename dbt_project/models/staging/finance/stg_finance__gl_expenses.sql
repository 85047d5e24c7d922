-- Monthly non-labour operating expenses from the ledger.
-- Grain: one row per month, location and GL account, the newest version of its key.
{%- set key_columns = ['month', 'location_id', 'account'] %}
{{ config(
    unique_key=key_columns,
    pre_hook="{{ forget_before_newest_snapshot(source('lake', 'gl_expenses')) }}",
) }}

with

newest as (
    {{ newest_version(source('lake', 'gl_expenses'), key_columns) }}
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
