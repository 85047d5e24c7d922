-- Template slots with slot_start in the local time of the slot's location, and the
-- slot's end, for overlap tests with half-open intervals [start, end).
-- Grain: one row per template slot (provider_id, slot_start as delivered).
with

slots as (
    select * from {{ ref('stg_scheduling__provider_slots') }}
),

locations as (
    select * from {{ ref('stg_reference__locations') }}
),

localised as (
    select
        slots.provider_id,
        slots.location_id,
        slots.slot_minutes,
        {{ to_local_ts('slots.slot_start', 'slots.slot_start_offset_min', 'locations.timezone') }}
            as slot_start
    from slots
    left join locations
        on slots.location_id = locations.location_id
)

select
    provider_id,
    location_id,
    slot_minutes,
    slot_start,
    {{ dbt.dateadd('minute', 'slot_minutes', 'slot_start') }} as slot_end,
    cast(slot_start as date) as slot_date
from localised
