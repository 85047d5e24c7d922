-- Appointments for the access and patient-flow KPIs of KPI_SPEC.md, in local time, with
-- the per-appointment measures the KPIs aggregate, defined once here:
--   is_late_cancel: status cancelled and cancelled_at later than scheduled_start − 24 h
--     (wall-clock; a cancel exactly 24 h before the start is not late);
--     A cancel recorded after the start is late too; a cancelled_at on another status
--     is not a cancel;
--   lead_time_days: scheduled_start − booked_at in fractional days (hours / 24), kept
--     as it is when negative (booked after the start): the spec excludes nothing;
--   lobby / wait_for_provider / cycle minutes: the interval when int_visit_intervals
--     uses it (both ends present, >= 0, <= 12 h), else null.
-- No patient_key: personal data never reaches a mart.
-- Grain: one row per appointment (appointment_id).
with

appointments as (
    select * from {{ ref('int_appointments_localised') }}
),

intervals as (
    select * from {{ ref('int_visit_intervals') }}
),

used_minutes as (
    select
        appointment_id,
        max(case when interval_kind = 'lobby' and is_used then minutes end) as lobby_wait_min,
        max(case when interval_kind = 'wait_for_provider' and is_used then minutes end)
            as wait_for_provider_min,
        max(case when interval_kind = 'cycle' and is_used then minutes end) as cycle_time_min
    from intervals
    group by appointment_id
)

select
    appointments.appointment_id,
    appointments.provider_id,
    appointments.location_id,
    appointments.appointment_type,
    -- appointment_type is an open list, not an enum: compare it forgivingly.
    lower(trim(appointments.appointment_type)) = 'new_patient' as is_new_patient,
    appointments.status,
    appointments.booked_at,
    appointments.scheduled_start,
    appointments.scheduled_date,
    appointments.scheduled_minutes,
    appointments.cancelled_at,
    appointments.checked_in_at,
    appointments.roomed_at,
    appointments.provider_start_at,
    appointments.checked_out_at,
    appointments.encounter_id,
    coalesce(
        appointments.status = 'cancelled'
        and {{ minutes_between('appointments.cancelled_at', 'appointments.scheduled_start') }} < 24 * 60,
        false
    ) as is_late_cancel,
    {{ minutes_between('appointments.booked_at', 'appointments.scheduled_start') }}
    / (24 * 60.0) as lead_time_days,
    used_minutes.lobby_wait_min,
    used_minutes.wait_for_provider_min,
    used_minutes.cycle_time_min
from appointments
left join used_minutes
    on appointments.appointment_id = used_minutes.appointment_id
