-- Staff dimension for the staffing KPIs of KPI_SPEC.md "Cost" and "Provider
-- productivity": role, provider_id, home location, FTE and employment dates. Names never
-- reach the lake (CONTRACTS.md: personal data), so there is none to leave out here.
-- is_provider marks the staff rows whose FTE is provider FTE (a provider_id and a
-- clinician role); support staff are the non-clinician roles.
-- Grain: one row per employee (employee_id).
with

staff as (
    select * from {{ ref('stg_hr__staff') }}
)

select
    employee_id,
    role,
    role in ('physician', 'nurse_practitioner', 'physician_assistant') as is_clinician,
    provider_id is not null
    and role in ('physician', 'nurse_practitioner', 'physician_assistant') as is_provider,
    provider_id,
    location_id,
    cast(fte as double) as fte,
    hire_date,
    termination_date
from staff
