-- The monthly plan per location and line.
-- Grain: one row per month, location and budget line, the newest version of its key.
with

newest as (
    {{ newest_version(source('lake', 'budget'), ['month', 'location_id', 'line']) }}
)

select
    month,
    location_id,
    line,
    amount,
    _delivery_id as delivery_id,
    _source_file as source_file,
    _line as source_line
from newest
