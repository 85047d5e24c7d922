-- Access and patient-flow KPIs of KPI_SPEC.md ("Access and patient flow", plus
-- completed_visits and new_patient_share), in the long shape of "Published outputs",
-- per week and month, for the practice, each location and each provider.
--   completed_visits            count of completed appointments
--   no_show_rate                no_show / (completed + no_show)
--   late_cancel_rate            late cancels / (completed + no_show + late cancels)
--   new_patient_lead_time_days  median lead time, completed and no_show new_patient
--   lobby_wait_min, wait_for_provider_min, cycle_time_min: _p50 and _p90 over the used
--                               intervals of completed visits (continuous quantiles)
--   new_patient_share           completed new_patient / completed
--   schedule_utilization        scheduled_minutes of completed + no_show / slot_minutes,
--                               each side by its own location at location scope
--   third_next_available_days   mean over provider-Mondays with a value, a provider
--                               counting at its staff home location
-- Appointments attach to the local date of scheduled_start, slots to the local date of
-- slot_start; nothing dated after the as-of date counts (third_next_available_days
-- looks ahead by its definition, in int_third_next_available). Rows exist where
-- appointments of any status exist (scheduled ones included, though they count in no
-- KPI), for utilization where slots or appointments exist, for
-- third_next_available_days where reported provider-Mondays exist.
-- Grain: one row per (period_grain, period_start, scope, scope_id, kpi).
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

third_next_available as (
    select * from {{ ref('int_third_next_available') }}
),

appointments_flagged as (
    select
        scheduled_date,
        location_id,
        provider_id,
        case when status = 'completed' then 1 else 0 end as is_completed,
        case when status = 'no_show' then 1 else 0 end as is_no_show,
        case when is_late_cancel then 1 else 0 end as is_late_cancel,
        case when status = 'completed' and is_new_patient then 1 else 0 end as is_completed_new_patient,
        case
            when status in ('completed', 'no_show') and is_new_patient then lead_time_days
        end as new_patient_lead_time_days,
        case when status = 'completed' then lobby_wait_min end as lobby_wait_min,
        case when status = 'completed' then wait_for_provider_min end as wait_for_provider_min,
        case when status = 'completed' then cycle_time_min end as cycle_time_min
    from appointments
),

appointments_exploded as (
    {{ explode_scopes('appointments_flagged', 'scheduled_date') }}
),

appointment_measures as (
    select
        period_grain,
        period_start,
        scope,
        scope_id,
        sum(is_completed) as completed,
        sum(is_no_show) as no_shows,
        sum(is_late_cancel) as late_cancels,
        sum(is_completed_new_patient) as completed_new_patients,
        {{ quantile_cont('new_patient_lead_time_days', 0.5) }} as new_patient_lead_time_days
        {%- for measure in ['lobby_wait_min', 'wait_for_provider_min', 'cycle_time_min'] %},
        {{ quantile_cont(measure, 0.5) }} as {{ measure }}_p50,
        {{ quantile_cont(measure, 0.9) }} as {{ measure }}_p90
        {%- endfor %}
    from appointments_exploded
    group by period_grain, period_start, scope, scope_id
),

-- Utilization: both sides carry their own date, location and provider, so that at
-- location scope booked minutes and template minutes each follow their own location_id.
utilization_inputs as (
    select
        scheduled_date as activity_date,
        location_id,
        provider_id,
        case when status in ('completed', 'no_show') then scheduled_minutes else 0 end as booked_minutes,
        0 as slot_minutes
    from appointments
    union all
    select
        slot_date as activity_date,
        location_id,
        provider_id,
        0 as booked_minutes,
        slot_minutes
    from slots
),

utilization_exploded as (
    {{ explode_scopes('utilization_inputs', 'activity_date') }}
),

utilization_measures as (
    select
        period_grain,
        period_start,
        scope,
        scope_id,
        sum(booked_minutes) as booked_minutes,
        sum(slot_minutes) as slot_minutes
    from utilization_exploded
    group by period_grain, period_start, scope, scope_id
),

third_next_available_exploded as (
    {{ explode_scopes('third_next_available', 'monday', 'home_location_id', 'provider_id') }}
),

third_next_available_measures as (
    select
        period_grain,
        period_start,
        scope,
        scope_id,
        coalesce(sum(third_next_available_days), 0) as days_total,
        count(third_next_available_days) as provider_mondays
    from third_next_available_exploded
    group by period_grain, period_start, scope, scope_id
),

{%- set appointment_kpis = [
    ('completed_visits', 'completed', 'completed', 'null'),
    ('no_show_rate', safe_divide('no_shows', 'completed + no_shows'), 'no_shows', 'completed + no_shows'),
    ('late_cancel_rate', safe_divide('late_cancels', 'completed + no_shows + late_cancels'), 'late_cancels', 'completed + no_shows + late_cancels'),
    ('new_patient_lead_time_days', 'new_patient_lead_time_days', 'null', 'null'),
    ('lobby_wait_min_p50', 'lobby_wait_min_p50', 'null', 'null'),
    ('lobby_wait_min_p90', 'lobby_wait_min_p90', 'null', 'null'),
    ('wait_for_provider_min_p50', 'wait_for_provider_min_p50', 'null', 'null'),
    ('wait_for_provider_min_p90', 'wait_for_provider_min_p90', 'null', 'null'),
    ('cycle_time_min_p50', 'cycle_time_min_p50', 'null', 'null'),
    ('cycle_time_min_p90', 'cycle_time_min_p90', 'null', 'null'),
    ('new_patient_share', safe_divide('completed_new_patients', 'completed'), 'completed_new_patients', 'completed'),
] %}
{%- set kpi_rows = [] %}
{%- for kpi, value, numerator, denominator in appointment_kpis %}
    {%- do kpi_rows.append(('appointment_measures', kpi, value, numerator, denominator)) %}
{%- endfor %}
{%- do kpi_rows.append(('utilization_measures', 'schedule_utilization', safe_divide('booked_minutes', 'slot_minutes'), 'booked_minutes', 'slot_minutes')) %}
{%- do kpi_rows.append(('third_next_available_measures', 'third_next_available_days', safe_divide('days_total', 'provider_mondays'), 'days_total', 'provider_mondays')) %}

kpis as (
    {%- for relation, kpi, value, numerator, denominator in kpi_rows %}
    select
        period_grain,
        period_start,
        scope,
        scope_id,
        '{{ kpi }}' as kpi,
        {{ value }} as value,
        {{ numerator }} as numerator,
        {{ denominator }} as denominator
    from {{ relation }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}
)

select
    cast(period_grain as {{ dbt.type_string() }}) as period_grain,
    cast(period_start as date) as period_start,
    cast(scope as {{ dbt.type_string() }}) as scope,
    cast(scope_id as {{ dbt.type_string() }}) as scope_id,
    cast(kpi as {{ dbt.type_string() }}) as kpi,
    cast(value as double) as value,
    cast(numerator as double) as numerator,
    cast(denominator as double) as denominator
from kpis
