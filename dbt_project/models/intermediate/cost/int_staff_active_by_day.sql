-- Active staff and their FTE on every calendar day (KPI_SPEC.md "Provider productivity":
-- active on a day = hire_date <= day and no termination_date before it, so an employee
-- terminated on a day still counts that day). Feeds provider FTE, support-staff FTE and
-- headcount "at D" (D = the period's last day) and on the period's first day.
-- is_provider marks the provider FTE of KPI_SPEC.md: a provider_id and a clinician role.
-- Grain: one row per employee and day active, days of the calendar only (up to as-of).
with

staff as (
    select * from {{ ref('stg_hr__staff') }}
),

days as (
    select day from {{ ref('int_days') }}
)

select
    days.day,
    staff.employee_id,
    staff.role,
    staff.provider_id,
    staff.location_id,
    cast(staff.fte as double) as fte,
    staff.role in ('physician', 'nurse_practitioner', 'physician_assistant') as is_clinician,
    staff.provider_id is not null
    and staff.role in ('physician', 'nurse_practitioner', 'physician_assistant') as is_provider
from staff
inner join days
    on staff.hire_date <= days.day
        and (staff.termination_date is null or staff.termination_date >= days.day)
