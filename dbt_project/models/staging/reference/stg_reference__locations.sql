-- The practice's sites and the timezone each one's clock runs in.
-- Grain: one row per location, the newest version of its key.
{%- set key_columns = ['location_id'] %}
{{ config(
    unique_key=key_columns,
    pre_hook="{{ forget_before_newest_snapshot(source('lake', 'locations')) }}",
) }}

with

newest as (
    {{ newest_version(source('lake', 'locations'), key_columns) }}
)

select
    location_id,
    location_name,
    timezone,
    _delivery_id as delivery_id,
    _source_file as source_file,
    _line as source_line
from newest
