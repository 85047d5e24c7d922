-- Payroll by pay period: hours and the cost of each employee.
-- Grain: one row per employee pay period (employee_id, pay_period_start), the newest version of its key.
{%- set key_columns = ['employee_id', 'pay_period_start'] %}
{{ config(
    unique_key=key_columns,
    pre_hook="{{ forget_before_newest_snapshot(source('lake', 'timesheets')) }}",
) }}

with

newest as (
    {{ newest_version(source('lake', 'timesheets'), key_columns) }}
)

select
    employee_id,
    pay_period_start,
    pay_period_end,
    regular_hours,
    overtime_hours,
    pto_hours,
    gross_pay,
    benefits_cost,
    _delivery_id as delivery_id,
    _source_file as source_file,
    _line as source_line
from newest
