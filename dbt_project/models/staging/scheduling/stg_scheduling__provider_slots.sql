-- The schedule template: the slots each provider offers.
-- Grain: one row per template slot (provider_id, slot_start), the newest version of its key.
{%- set key_columns = ['provider_id', 'slot_start'] %}
{{ config(
    unique_key=key_columns,
    pre_hook="{{ forget_before_newest_snapshot(source('lake', 'provider_slots')) }}",
) }}

with

newest as (
    {{ newest_version(source('lake', 'provider_slots'), key_columns) }}
)

select
    provider_id,
    location_id,
    slot_start,
    slot_start_offset_min,
    slot_minutes,
    _delivery_id as delivery_id,
    _source_file as source_file,
    _line as source_line
from newest
