-- Clinicians who see patients: every provider_id named by scheduling, billing or HR, with
-- role, staff home location and FTE from their staff row (int_provider_homes); no names.
-- A provider without a staff row keeps null role, home and FTE, and counts at practice
-- and provider scope only wherever KPI_SPEC.md attributes by home location.
-- Grain: one row per provider (provider_id).
with

homes as (
    select * from {{ ref('int_provider_homes') }}
),

appointments as (
    select * from {{ ref('int_appointments_localised') }}
),

slots as (
    select * from {{ ref('int_provider_slots_localised') }}
),

charges as (
    select * from {{ ref('stg_billing__charges') }}
),

providers as (
    select provider_id from homes
    union
    select provider_id from appointments
    union
    select provider_id from slots
    union
    select rendering_provider_id as provider_id from charges
)

select
    providers.provider_id,
    homes.role,
    homes.home_location_id,
    homes.fte,
    homes.employee_id is not null as is_in_staff
from providers
left join homes
    on providers.provider_id = homes.provider_id
where providers.provider_id is not null
