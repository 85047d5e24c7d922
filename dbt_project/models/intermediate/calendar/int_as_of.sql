-- The as-of date of KPI_SPEC.md "Calendar and grain": the run's `as_of` var when given,
-- else the billing system's last posting day (latest posted_date of any charge or
-- transaction), else the latest scheduled_start date of a completed or no_show
-- appointment. Nothing dated after it counts in any KPI.
-- Grain: exactly one row.
-- The CTEs are read only when no as_of var is given, which the linter cannot see.
-- noqa: disable=ST03
with

postings as (
    select posted_date from {{ ref('stg_billing__charges') }}
    union all
    select posted_date from {{ ref('stg_billing__transactions') }}
),

visits as (
    select scheduled_date
    from {{ ref('int_appointments_localised') }}
    where status in ('completed', 'no_show')
)

select
    {%- if var('as_of', '') %}
        cast('{{ var("as_of") }}' as date) as as_of_date
    {%- else %}
        coalesce(
            (select max(posted_date) from postings),
            (select max(scheduled_date) from visits)
        ) as as_of_date
    {%- endif %}
