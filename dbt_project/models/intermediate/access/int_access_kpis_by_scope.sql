-- The formulas of the access and patient-flow KPIs of KPI_SPEC.md ("Access and patient
-- flow", plus completed_visits and new_patient_share), one column set per KPI, per week
-- and month, for the practice, each location and each provider; kpi_access publishes
-- them in the long shape of "Published outputs".
--   completed_visits            count of completed appointments
--   no_show_rate                no_show / (completed + no_show)
--   late_cancel_rate            late cancels / (completed + no_show + late cancels)
--   new_patient_lead_time_days  median lead time of completed and no_show new_patient
--   lobby_wait_min, wait_for_provider_min, cycle_time_min: p50 and p90 over the used
--                               intervals of completed visits (continuous quantiles)
--   new_patient_share           completed new_patient / completed
--   schedule_utilization        scheduled_minutes of completed + no_show / slot_minutes,
--                               same provider(s) and period; at location scope each side
--                               by its own location_id; null where there are no slots.
--                               A slot counts wholly on its slot_start date, and booked
--                               minutes are not matched to slots, so overbooking can
--                               exceed 1 (docs/interpretations.md)
--   third_next_available_days   mean over the provider-Mondays that have a value
--                               (numerator Σ days, denominator their count), a provider
--                               counting at its staff home location
-- Rates are recomputed from numerators and denominators at every grain and scope; a zero
-- denominator gives a null value. Appointments attach to the local date of
-- scheduled_start and slots to that of slot_start; nothing dated after the as-of date
-- counts (third_next_available_days looks ahead by its definition, in
-- int_third_next_available, and is dated by its Monday). `scheduled` appointments count
-- in no KPI but do count as activity (appointments, below).
-- Grain: one row per (period_grain, period_start, scope, scope_id) with any appointment,
-- slot or reported provider-Monday.
with

as_of as (
    select as_of_date from {{ ref('int_as_of') }}
),

appointments as (
    select * from {{ ref('fct_appointments') }}
    where scheduled_date <= (select as_of_date from as_of)
),

slots as (
    select * from {{ ref('int_provider_slots_localised') }}
    where slot_date <= (select as_of_date from as_of)
),

-- Template minutes are additive: one row per provider, location and day instead of one
-- per slot keeps the fan-out to six scopes small.
slot_days as (
    select
        slot_date,
        location_id,
        provider_id,
        count(*) as slot_count,
        sum(slot_minutes) as slot_minutes
    from slots
    group by slot_date, location_id, provider_id
),

third_next_available as (
    select * from {{ ref('int_third_next_available') }}
),

-- Each activity carries its own date, location and provider, so that at location scope
-- booked minutes and template minutes follow their own location_id, and a provider's
-- Mondays its staff home location.
activity as (
    select
        scheduled_date as activity_date,
        location_id,
        provider_id,
        1 as is_appointment,
        0 as slot_count,
        0 as is_provider_monday,
        case when status = 'completed' then 1 else 0 end as is_completed,
        case when status = 'no_show' then 1 else 0 end as is_no_show,
        case when is_late_cancel then 1 else 0 end as is_late_cancel,
        case when status = 'completed' and is_new_patient then 1 else 0 end as is_completed_new_patient,
        case
            when status in ('completed', 'no_show') and is_new_patient then lead_time_days
        end as new_patient_lead_time_days,
        case when status = 'completed' then lobby_wait_min end as lobby_wait_min,
        case when status = 'completed' then wait_for_provider_min end as wait_for_provider_min,
        case when status = 'completed' then cycle_time_min end as cycle_time_min,
        case when status in ('completed', 'no_show') then scheduled_minutes else 0 end as booked_minutes,
        0 as slot_minutes,
        cast(null as double) as third_next_available_days
    from appointments

    union all

    select
        slot_date as activity_date,
        location_id,
        provider_id,
        0 as is_appointment,
        slot_count,
        0 as is_provider_monday,
        0 as is_completed,
        0 as is_no_show,
        0 as is_late_cancel,
        0 as is_completed_new_patient,
        cast(null as double) as new_patient_lead_time_days,
        cast(null as double) as lobby_wait_min,
        cast(null as double) as wait_for_provider_min,
        cast(null as double) as cycle_time_min,
        0 as booked_minutes,
        slot_minutes,
        cast(null as double) as third_next_available_days
    from slot_days

    union all

    select
        monday as activity_date,
        home_location_id as location_id,
        provider_id,
        0 as is_appointment,
        0 as slot_count,
        1 as is_provider_monday,
        0 as is_completed,
        0 as is_no_show,
        0 as is_late_cancel,
        0 as is_completed_new_patient,
        cast(null as double) as new_patient_lead_time_days,
        cast(null as double) as lobby_wait_min,
        cast(null as double) as wait_for_provider_min,
        cast(null as double) as cycle_time_min,
        0 as booked_minutes,
        0 as slot_minutes,
        cast(third_next_available_days as double) as third_next_available_days
    from third_next_available
),

exploded as (
    {{ explode_scopes('activity', 'activity_date') }}
),

aggregated as (
    select
        period_grain,
        period_start,
        scope,
        scope_id,
        sum(is_appointment) as appointments,
        sum(slot_count) as slots,
        sum(is_provider_monday) as provider_mondays,
        sum(is_completed) as completed_visits,
        sum(is_no_show) as no_shows,
        sum(is_late_cancel) as late_cancels,
        sum(is_completed_new_patient) as completed_new_patients,
        {{ quantile_cont('new_patient_lead_time_days', 0.5) }} as new_patient_lead_time_days,
        {%- for measure in ['lobby_wait_min', 'wait_for_provider_min', 'cycle_time_min'] %}
            {{ quantile_cont(measure, 0.5) }} as {{ measure }}_p50,
            {{ quantile_cont(measure, 0.9) }} as {{ measure }}_p90,
        {%- endfor %}
        sum(booked_minutes) as booked_minutes,
        sum(slot_minutes) as slot_minutes,
        coalesce(sum(third_next_available_days), 0) as third_next_available_days_total,
        count(third_next_available_days) as provider_mondays_with_value
    from exploded
    group by period_grain, period_start, scope, scope_id
)

select
    period_grain,
    period_start,
    scope,
    scope_id,
    appointments,
    slots,
    provider_mondays,
    completed_visits,
    no_shows,
    completed_visits + no_shows as no_show_rate_denominator,
    {{ safe_divide('no_shows', 'completed_visits + no_shows') }} as no_show_rate,
    late_cancels,
    completed_visits + no_shows + late_cancels as late_cancel_rate_denominator,
    {{ safe_divide('late_cancels', 'completed_visits + no_shows + late_cancels') }} as late_cancel_rate,
    completed_new_patients,
    {{ safe_divide('completed_new_patients', 'completed_visits') }} as new_patient_share,
    new_patient_lead_time_days,
    lobby_wait_min_p50,
    lobby_wait_min_p90,
    wait_for_provider_min_p50,
    wait_for_provider_min_p90,
    cycle_time_min_p50,
    cycle_time_min_p90,
    booked_minutes,
    slot_minutes,
    {{ safe_divide('booked_minutes', 'slot_minutes') }} as schedule_utilization,
    third_next_available_days_total,
    provider_mondays_with_value,
    {{ safe_divide('third_next_available_days_total', 'provider_mondays_with_value') }}
        as third_next_available_days
from aggregated
