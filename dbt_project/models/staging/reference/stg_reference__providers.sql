-- The practice's own names for its clinicians (providers.csv, optional; CONTRACTS.md):
-- display name, NPI (checked at landing), specialty and a home location for providers
-- without a staff row. A display name is a clinician's professional name, not personal
-- data of a patient or a staff row, so it may reach the marts. Specialty is compared
-- trimmed, lower-cased and with spaces as underscores, as the benchmark seed names it.
-- Grain: one row per provider, the newest version of its key.
{%- set key_columns = ['provider_id'] %}
{{ config(
    unique_key=key_columns,
    pre_hook="{{ forget_before_newest_snapshot(source('lake', 'providers')) }}",
) }}

with

newest as (
    {{ newest_version(source('lake', 'providers'), key_columns) }}
)

select
    provider_id,
    display_name,
    npi,
    replace(lower(trim(specialty)), ' ', '_') as specialty,
    location_id,
    _delivery_id as delivery_id,
    _source_file as source_file,
    _line as source_line
from newest
