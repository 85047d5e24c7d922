-- The coverage end of each source (KPI_SPEC.md "Complete rows"): the last day through
-- which the source has data, against which kpi_values judges each row `complete`.
--   scheduling  latest scheduled_start date (local) of a completed or no_show appointment
--   billing     latest posted_date of a charge or transaction
--   payroll     latest pay_period_end
--   ledger      last day of the latest month with a gl_expenses row
-- Scheduling and billing are extended over the days after their end on which no provider
-- has a template slot (a Friday's last visit covers the weekend): up to the day before
-- the next day with a slot, or up to the as-of date when no later day has one; with no
-- template slots at all there is no extension. A source without data has a null end.
-- The ends are read from every landed row, also those dated after the as-of date: the
-- source does have data through them (docs/interpretations.md).
-- Grain: exactly one row.
with

as_of as (
    select as_of_date from {{ ref('int_as_of') }}
),

slot_days as (
    select distinct slot_date from {{ ref('int_provider_slots_localised') }}
),

postings as (
    select posted_date from {{ ref('stg_billing__charges') }}
    union all
    select posted_date from {{ ref('stg_billing__transactions') }}
),

ends as (
    select
        (
            select max(scheduled_date)
            from {{ ref('int_appointments_localised') }}
            where status in ('completed', 'no_show')
        ) as scheduling_data_end,
        (select max(posted_date) from postings) as billing_data_end,
        (select max(pay_period_end) from {{ ref('stg_hr__timesheets') }}) as payroll_end,
        (
            select cast({{ dbt.last_day('max(month)', 'month') }} as date)
            from {{ ref('stg_finance__gl_expenses') }}
        ) as ledger_end,
        (select count(*) from slot_days) as slot_day_count,
        as_of.as_of_date
    from as_of
),

-- One pass over the slot days, no correlated subquery (Spark does not take one with an
-- inequality).
next_slot_days as (
    select
        ends.scheduling_data_end,
        ends.billing_data_end,
        ends.payroll_end,
        ends.ledger_end,
        ends.slot_day_count,
        ends.as_of_date,
        min(case when slot_days.slot_date > ends.scheduling_data_end then slot_days.slot_date end)
            as scheduling_next_slot_day,
        min(case when slot_days.slot_date > ends.billing_data_end then slot_days.slot_date end)
            as billing_next_slot_day
    from ends
    left join slot_days
        on 1 = 1
    group by
        ends.scheduling_data_end,
        ends.billing_data_end,
        ends.payroll_end,
        ends.ledger_end,
        ends.slot_day_count,
        ends.as_of_date
)

select
    {%- for source in ['scheduling', 'billing'] %}
        case
            when {{ source }}_data_end is null or slot_day_count = 0 then {{ source }}_data_end
            when {{ source }}_next_slot_day is not null then {{ add_days(source ~ '_next_slot_day', -1) }}
            when as_of_date > {{ source }}_data_end then as_of_date
            else {{ source }}_data_end
        end as {{ source }}_end,
    {%- endfor %}
    cast(payroll_end as date) as payroll_end,
    cast(ledger_end as date) as ledger_end
from next_slot_days
