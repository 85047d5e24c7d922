-- The schedule template: the slots each provider offers.
-- Grain: one row per template slot (provider_id, slot_start), the newest version of its key.
with

newest as (
    {{ newest_version(source('lake', 'provider_slots'), ['provider_id', 'slot_start']) }}
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
