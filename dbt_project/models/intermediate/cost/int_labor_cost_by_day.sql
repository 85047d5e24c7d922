-- Labour cost and hours of each pay period spread evenly over its days (KPI_SPEC.md
-- "Cost": labor_cost = gross_pay + benefits_cost, missing = 0, spread evenly over
-- pay_period_start ... pay_period_end inclusive, on the employee's home location;
-- overtime_share's hours spread the same way). The daily share is the period's total
-- divided by all its days, so days after the as-of date drop out with their share
-- rather than moving it onto earlier days. A timesheet of an employee missing from
-- staff has a null location_id: it counts at practice scope only (CONTRACTS.md).
-- Grain: one row per timesheet (employee_id, pay_period_start) and day, up to as-of.
with

timesheets as (
    select * from {{ ref('stg_hr__timesheets') }}
),

staff as (
    select * from {{ ref('stg_hr__staff') }}
),

days as (
    select day from {{ ref('int_days') }}
),

pay_periods as (
    select
        timesheets.employee_id,
        timesheets.pay_period_start,
        timesheets.pay_period_end,
        staff.location_id,
        cast(timesheets.gross_pay as double)
        + coalesce(cast(timesheets.benefits_cost as double), 0.0) as period_cost,
        cast(timesheets.regular_hours as double) as regular_hours,
        cast(timesheets.overtime_hours as double) as overtime_hours,
        cast({{ days_between('timesheets.pay_period_start', 'timesheets.pay_period_end') }} + 1 as double)
            as period_days
    from timesheets
    left join staff
        on timesheets.employee_id = staff.employee_id
)

select
    pay_periods.employee_id,
    pay_periods.pay_period_start,
    days.day,
    pay_periods.location_id,
    pay_periods.period_cost / pay_periods.period_days as labor_cost,
    pay_periods.regular_hours / pay_periods.period_days as regular_hours,
    pay_periods.overtime_hours / pay_periods.period_days as overtime_hours
from pay_periods
inner join days
    on pay_periods.pay_period_start <= days.day
        and pay_periods.pay_period_end >= days.day
