-- Each provider's staff home location, role and FTE: KPI_SPEC.md counts a provider "at
-- its staff home location" (the stg_hr__staff row with that provider_id) for
-- third_next_available_days. The contract does not make provider_id unique in staff;
-- when several staff rows carry it (a rehire), the current or latest employment wins:
-- the row without a termination_date, else the latest termination; among rows still
-- tied (two current contracts at two sites) the largest FTE, where the provider mostly
-- works, then the latest hire (docs/interpretations.md).
-- Grain: one row per provider_id present in staff.
with

staff as (
    select * from {{ ref('stg_hr__staff') }}
),

ranked as (
    select
        provider_id,
        employee_id,
        role,
        location_id,
        fte,
        hire_date,
        termination_date,
        row_number() over (
            partition by provider_id
            order by
                case when termination_date is null then 0 else 1 end,
                termination_date desc,
                fte desc,
                hire_date desc,
                employee_id desc
        ) as employment_rank
    from staff
    where provider_id is not null
)

select
    provider_id,
    employee_id,
    role,
    location_id as home_location_id,
    fte,
    hire_date,
    termination_date
from ranked
where employment_rank = 1
