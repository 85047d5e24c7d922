-- The practice's locations with their timezone, for labels and filters. Locations that
-- scheduling or HR name but the reference file lacks are kept (without name) so that
-- every KPI scope_id of scope `location` finds its row.
-- Grain: one row per location (location_id).
with

locations as (
    select * from {{ ref('stg_reference__locations') }}
),

appointments as (
    select * from {{ ref('int_appointments_localised') }}
),

slots as (
    select * from {{ ref('int_provider_slots_localised') }}
),

staff as (
    select * from {{ ref('stg_hr__staff') }}
),

referenced as (
    select location_id from appointments
    union
    select location_id from slots
    union
    select location_id from staff
)

select
    locations.location_id,
    locations.location_name,
    locations.timezone,
    true as is_in_reference
from locations

union all

select
    referenced.location_id,
    cast(null as {{ dbt.type_string() }}) as location_name,
    cast(null as {{ dbt.type_string() }}) as timezone,
    false as is_in_reference
from referenced
left join locations
    on referenced.location_id = locations.location_id
where locations.location_id is null
    and referenced.location_id is not null
