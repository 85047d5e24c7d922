-- Every appointment the scheduler knows, with its visit time stamps.
-- Grain: one row per appointment (appointment_id), the newest version of its key.
{%- set key_columns = ['appointment_id'] %}
{{ config(
    unique_key=key_columns,
    pre_hook="{{ forget_before_newest_snapshot(source('lake', 'appointments')) }}",
) }}

with

newest as (
    {{ newest_version(source('lake', 'appointments'), key_columns) }}
)

select
    appointment_id,
    patient_key,
    provider_id,
    location_id,
    appointment_type,
    booked_at,
    booked_at_offset_min,
    scheduled_start,
    scheduled_start_offset_min,
    scheduled_minutes,
    status,
    cancelled_at,
    cancelled_at_offset_min,
    checked_in_at,
    checked_in_at_offset_min,
    roomed_at,
    roomed_at_offset_min,
    provider_start_at,
    provider_start_at_offset_min,
    checked_out_at,
    checked_out_at_offset_min,
    encounter_id,
    _delivery_id as delivery_id,
    _source_file as source_file,
    _line as source_line
from newest
