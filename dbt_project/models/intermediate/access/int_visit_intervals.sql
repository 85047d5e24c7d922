-- The three visit intervals of KPI_SPEC.md "Access and patient flow": lobby
-- (roomed_at − checked_in_at), wait for provider (provider_start_at − checked_in_at) and
-- cycle (checked_out_at − checked_in_at), in wall-clock minutes of local times.
-- Wait-time rules: each interval is judged on its own and used only when both ends are
-- present, it is >= 0 and <= 12 hours; a broken interval is kept here with its reason so
-- that the data-quality view counts it instead of it being silently dropped.
-- Grain: one row per completed appointment and interval kind (appointment_id, interval_kind).
with

appointments as (
    select * from {{ ref('int_appointments_localised') }}
),

completed as (
    select *
    from appointments
    where status = 'completed'
),

intervals as (
    {%- set kinds = [
        ('lobby', 'roomed_at'),
        ('wait_for_provider', 'provider_start_at'),
        ('cycle', 'checked_out_at'),
    ] %}
    {%- for kind, end_column in kinds %}
        select
            appointment_id,
            provider_id,
            location_id,
            appointment_type,
            scheduled_date,
            '{{ kind }}' as interval_kind,
            checked_in_at as started_at,
            {{ end_column }} as ended_at,
            case
                when checked_in_at is not null and {{ end_column }} is not null
                    then {{ minutes_between('checked_in_at', end_column) }}
            end as minutes
        from completed
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

judged as (
    select
        *,
        case
            when minutes is null then 'missing_end'
            when minutes < 0 then 'negative'
            when minutes > 12 * 60 then 'over_12h'
        end as violation_reason
    from intervals
)

select
    appointment_id,
    provider_id,
    location_id,
    appointment_type,
    scheduled_date,
    interval_kind,
    started_at,
    ended_at,
    minutes,
    violation_reason is null as is_used,
    violation_reason
from judged
