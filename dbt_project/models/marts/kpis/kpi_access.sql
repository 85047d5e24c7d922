-- The access and patient-flow KPIs of KPI_SPEC.md in the long shape of "Published
-- outputs" (formulas: int_access_kpis_by_scope). Which rows exist: the appointment KPIs
-- where the scope has appointments of any status in the period (scheduled ones
-- included), schedule_utilization where it has slots or appointments,
-- third_next_available_days where it has reported provider-Mondays. Counts carry
-- numerator = value and a null denominator; quantiles carry neither.
-- Grain: one row per (period_grain, period_start, scope, scope_id, kpi).
{%- set kpis = [
    ('completed_visits', 'completed_visits', 'completed_visits', 'null', 'appointments'),
    ('no_show_rate', 'no_show_rate', 'no_shows', 'no_show_rate_denominator', 'appointments'),
    ('late_cancel_rate', 'late_cancel_rate', 'late_cancels', 'late_cancel_rate_denominator', 'appointments'),
    ('new_patient_lead_time_days', 'new_patient_lead_time_days', 'null', 'null', 'appointments'),
    ('lobby_wait_min_p50', 'lobby_wait_min_p50', 'null', 'null', 'appointments'),
    ('lobby_wait_min_p90', 'lobby_wait_min_p90', 'null', 'null', 'appointments'),
    ('wait_for_provider_min_p50', 'wait_for_provider_min_p50', 'null', 'null', 'appointments'),
    ('wait_for_provider_min_p90', 'wait_for_provider_min_p90', 'null', 'null', 'appointments'),
    ('cycle_time_min_p50', 'cycle_time_min_p50', 'null', 'null', 'appointments'),
    ('cycle_time_min_p90', 'cycle_time_min_p90', 'null', 'null', 'appointments'),
    ('new_patient_share', 'new_patient_share', 'completed_new_patients', 'completed_visits', 'appointments'),
    ('schedule_utilization', 'schedule_utilization', 'booked_minutes', 'slot_minutes', 'appointments + slots'),
    ('third_next_available_days', 'third_next_available_days', 'third_next_available_days_total', 'provider_mondays_with_value', 'provider_mondays'),
] %}
with

by_scope as (
    select * from {{ ref('int_access_kpis_by_scope') }}
),

kpis as (
    {%- for kpi, value, numerator, denominator, activity in kpis %}
        select
            period_grain,
            period_start,
            scope,
            scope_id,
            '{{ kpi }}' as kpi,
            {{ value }} as value,
            {{ numerator }} as numerator,
            {{ denominator }} as denominator
        from by_scope
        where {{ activity }} > 0
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
)

select
    {{ kpi_columns() }}
from kpis
