-- Insurers and other payers, with the financial class used for payer mix.
-- Grain: one row per payer, the newest version of its key.
{%- set key_columns = ['payer_id'] %}
{{ config(
    unique_key=key_columns,
    pre_hook="{{ forget_before_newest_snapshot(source('lake', 'payers')) }}",
) }}

with

newest as (
    {{ newest_version(source('lake', 'payers'), key_columns) }}
)

select
    payer_id,
    payer_name,
    financial_class,
    _delivery_id as delivery_id,
    _source_file as source_file,
    _line as source_line
from newest
