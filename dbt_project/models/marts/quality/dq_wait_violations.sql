-- Visit intervals that break KPI_SPEC.md's wait-time rules (both ends present, >= 0 and
-- <= 12 hours). They are left out of the wait KPIs and counted here instead of being
-- silently dropped.
-- Grain: one row per completed appointment and broken interval (appointment_id, interval_kind).
with

intervals as (
    select * from {{ ref('int_visit_intervals') }}
)

select
    appointment_id,
    provider_id,
    location_id,
    scheduled_date,
    interval_kind,
    started_at,
    ended_at,
    minutes,
    violation_reason
from intervals
where not is_used
