-- The practice's sites and the timezone each one's clock runs in.
-- Grain: one row per location, the newest version of its key.
with

newest as (
    {{ newest_version(source('lake', 'locations'), ['location_id']) }}
)

select
    location_id,
    location_name,
    timezone,
    _delivery_id as delivery_id,
    _source_file as source_file,
    _line as source_line
from newest
