-- How current each entity is, for the data-quality page: the latest delivery received
-- (from the ledger) and the latest date found in its newest data. Every entity of
-- CONTRACTS.md has a row, also before its first delivery. The data date is the latest
-- day of activity the entity records: a completed or no_show visit's scheduled date
-- (future bookings are not data yet), a template slot's date, a charge's or
-- transaction's posted_date, a claim's submitted_date, a hire or termination, a pay
-- period's end, a GL or budget month; locations and payers carry no date.
-- Grain: one row per entity.
with

ledger as (
    select * from {{ source('landing', 'ledger') }}
),

entities as (
    {%- set entities = [
        ('reference', 'locations'), ('scheduling', 'appointments'), ('scheduling', 'provider_slots'),
        ('billing', 'payers'), ('billing', 'charges'), ('billing', 'claims'), ('billing', 'transactions'),
        ('hr', 'staff'), ('hr', 'timesheets'), ('finance', 'gl_expenses'), ('finance', 'budget'),
    ] %}
    {%- for source_system, entity in entities %}
        select
            '{{ source_system }}' as source,
            '{{ entity }}' as entity
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

data_dates as (
    select
        'appointments' as entity,
        max(scheduled_date) as latest_data_date
    from {{ ref('int_appointments_localised') }}
    where status in ('completed', 'no_show')
    union all
    select
        'provider_slots' as entity,
        max(slot_date) as latest_data_date
    from {{ ref('int_provider_slots_localised') }}
    union all
    select
        'charges' as entity,
        max(posted_date) as latest_data_date
    from {{ ref('stg_billing__charges') }}
    union all
    select
        'claims' as entity,
        max(submitted_date) as latest_data_date
    from {{ ref('stg_billing__claims') }}
    union all
    select
        'transactions' as entity,
        max(posted_date) as latest_data_date
    from {{ ref('stg_billing__transactions') }}
    union all
    select
        'staff' as entity,
        max(greatest(hire_date, coalesce(termination_date, hire_date))) as latest_data_date
    from {{ ref('stg_hr__staff') }}
    union all
    select
        'timesheets' as entity,
        max(pay_period_end) as latest_data_date
    from {{ ref('stg_hr__timesheets') }}
    union all
    select
        'gl_expenses' as entity,
        max(month) as latest_data_date
    from {{ ref('stg_finance__gl_expenses') }}
    union all
    select
        'budget' as entity,
        max(month) as latest_data_date
    from {{ ref('stg_finance__budget') }}
),

deliveries as (
    select
        entity,
        max(received_at) as last_received_at,
        max(delivery_id) as last_delivery_id,
        count(*) as deliveries,
        cast(sum(case when status = 'failed' then 1 else 0 end) as bigint) as failed_deliveries
    from ledger
    where entity is not null
    group by entity
)

select
    entities.source,
    entities.entity,
    deliveries.last_received_at,
    deliveries.last_delivery_id,
    coalesce(deliveries.deliveries, 0) as deliveries,
    coalesce(deliveries.failed_deliveries, 0) as failed_deliveries,
    cast(data_dates.latest_data_date as date) as latest_data_date
from entities
left join deliveries
    on entities.entity = deliveries.entity
left join data_dates
    on entities.entity = data_dates.entity
