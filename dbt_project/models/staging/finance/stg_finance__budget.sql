-- The monthly plan per location and line.
-- Grain: one row per month, location and budget line, the newest version of its key.
{%- set key_columns = ['month', 'location_id', 'line'] %}
{{ config(
    unique_key=key_columns,
    pre_hook="{{ forget_before_newest_snapshot(source('lake', 'budget')) }}",
) }}

with

newest as (
    {{ newest_version(source('lake', 'budget'), key_columns) }}
)

select
    month,
    location_id,
    line,
    amount,
    _delivery_id as delivery_id,
    _source_file as source_file,
    _line as source_line
from newest
