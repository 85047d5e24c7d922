-- Non-labour operating cost spread by day (KPI_SPEC.md "Cost": each gl_expenses month
-- amount spread evenly over the month's days, on its location). The share is the
-- amount over all the calendar month's days, so days after the as-of date drop out.
-- Grain: one row per GL row (month, location_id, account) and day, up to as-of.
with

gl_expenses as (
    select * from {{ ref('stg_finance__gl_expenses') }}
),

days as (
    select day from {{ ref('int_days') }}
),

gl_months as (
    select
        month,
        location_id,
        account,
        cast(amount as double) as amount,
        cast({{ days_between('month', dbt.last_day('month', 'month')) }} + 1 as double) as month_days
    from gl_expenses
)

select
    gl_months.month,
    gl_months.location_id,
    gl_months.account,
    days.day,
    gl_months.amount / gl_months.month_days as non_labor_cost
from gl_months
inner join days
    on cast({{ dbt.date_trunc('month', 'days.day') }} as date) = gl_months.month
