-- Payroll by pay period: hours and the cost of each employee.
-- Grain: one row per employee pay period (employee_id, pay_period_start), the newest version of its key.
with

newest as (
    {{ newest_version(source('lake', 'timesheets'), ['employee_id', 'pay_period_start']) }}
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
