-- Employees with role, FTE and employment dates; names never leave landing.
-- Grain: one row per employee (employee_id), the newest version of its key.
{%- set key_columns = ['employee_id'] %}
{{ config(
    unique_key=key_columns,
    pre_hook="{{ forget_before_newest_snapshot(source('lake', 'staff')) }}",
) }}

with

newest as (
    {{ newest_version(source('lake', 'staff'), key_columns) }}
)

select
    employee_id,
    role,
    provider_id,
    location_id,
    fte,
    hire_date,
    termination_date,
    _delivery_id as delivery_id,
    _source_file as source_file,
    _line as source_line
from newest
