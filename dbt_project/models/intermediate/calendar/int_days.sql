-- The calendar: every day from the first period that holds any data up to the as-of
-- date. It starts on the earlier of the first data's Monday and month start, so that
-- every reported week and month is whole at its start; it ends at the as-of date, so
-- the period holding it is shortened as KPI_SPEC.md requires.
-- Grain: one row per day.
with

data_dates as (
    select scheduled_date as day from {{ ref('int_appointments_localised') }}
    union all
    select slot_date from {{ ref('int_provider_slots_localised') }}
    union all
    select service_date from {{ ref('stg_billing__charges') }}
    union all
    select posted_date from {{ ref('stg_billing__charges') }}
    union all
    select posted_date from {{ ref('stg_billing__transactions') }}
    union all
    select pay_period_start from {{ ref('stg_hr__timesheets') }}
    union all
    select month from {{ ref('stg_finance__gl_expenses') }}
),

bounds as (
    select
        least(
            cast({{ dbt.date_trunc('week', 'min(day)') }} as date),
            cast({{ dbt.date_trunc('month', 'min(day)') }} as date)
        ) as first_day,
        (select as_of_date from {{ ref('int_as_of') }}) as last_day
    from data_dates
),

days as (
    {{ day_series('(select first_day from bounds)', '(select last_day from bounds)') }}
)

select day
from days
where day <= (select last_day from bounds)
