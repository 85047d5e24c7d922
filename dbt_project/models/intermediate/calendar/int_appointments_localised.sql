-- Appointments with every time stamp in the local time of the appointment's location
-- (KPI_SPEC.md "Calendar and grain": a timestamp with an offset is converted to the
-- location's timezone first; without a timezone the wall-clock time is used as written).
-- Grain: one row per appointment (appointment_id).
with

appointments as (
    select * from {{ ref('stg_scheduling__appointments') }}
),

locations as (
    select * from {{ ref('stg_reference__locations') }}
)

select
    appointments.appointment_id,
    appointments.patient_key,
    appointments.provider_id,
    appointments.location_id,
    appointments.appointment_type,
    appointments.scheduled_minutes,
    appointments.status,
    appointments.encounter_id,
    {%- for ts in ['booked_at', 'scheduled_start', 'cancelled_at', 'checked_in_at', 'roomed_at', 'provider_start_at', 'checked_out_at'] %}
        {{ to_local_ts('appointments.' ~ ts, 'appointments.' ~ ts ~ '_offset_min', 'locations.timezone') }}
            as {{ ts }},
    {%- endfor %}
    cast(
        {{ to_local_ts('appointments.scheduled_start', 'appointments.scheduled_start_offset_min', 'locations.timezone') }} as date
    ) as scheduled_date
from appointments
left join locations
    on appointments.location_id = locations.location_id
