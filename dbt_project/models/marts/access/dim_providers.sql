-- Clinicians who see patients: every provider_id named by scheduling, billing or HR, with
-- role, staff home location and FTE from their staff row (int_provider_homes), and the
-- practice's display name, NPI and specialty from providers.csv where it is delivered
-- (a clinician's professional name, CONTRACTS.md; staff names never get here). Without
-- providers.csv, display_name is the provider id, so screens always have a name to show.
-- providers.csv's location_id is the home only where staff.csv gives none.
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

named as (
    select * from {{ ref('stg_reference__providers') }}
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
    coalesce(named.display_name, providers.provider_id) as display_name,
    named.npi,
    named.specialty,
    homes.role,
    coalesce(homes.home_location_id, named.location_id) as home_location_id,
    homes.fte,
    homes.employee_id is not null as is_in_staff
from providers
left join homes
    on providers.provider_id = homes.provider_id
left join named
    on providers.provider_id = named.provider_id
where providers.provider_id is not null
