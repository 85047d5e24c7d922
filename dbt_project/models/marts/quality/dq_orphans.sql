-- Ids that match nothing elsewhere (CONTRACTS.md: such rows are loaded and reported as
-- orphans in the data-quality view, not rejected). Each check names the entity, the
-- row's key, the column holding the dangling reference and the entity it should match.
-- Provider ids are checked against staff (providers are staff rows with a provider_id),
-- locations against locations.csv. Optional references (a transaction's charge_id, a
-- charge's encounter_id) are checked only when present.
-- Grain: one row per orphan row and dangling reference (entity, record_key, reference_column).
with

locations as (
    select * from {{ ref('stg_reference__locations') }}
),

appointments as (
    select * from {{ ref('stg_scheduling__appointments') }}
),

provider_slots as (
    select * from {{ ref('stg_scheduling__provider_slots') }}
),

payers as (
    select * from {{ ref('stg_billing__payers') }}
),

charges as (
    select * from {{ ref('stg_billing__charges') }}
),

claims as (
    select * from {{ ref('stg_billing__claims') }}
),

transactions as (
    select * from {{ ref('stg_billing__transactions') }}
),

staff as (
    select * from {{ ref('stg_hr__staff') }}
),

timesheets as (
    select * from {{ ref('stg_hr__timesheets') }}
),

gl_expenses as (
    select * from {{ ref('stg_finance__gl_expenses') }}
),

budget as (
    select * from {{ ref('stg_finance__budget') }}
),

staff_providers as (
    select distinct provider_id from staff
    where provider_id is not null
),

encounters as (
    select distinct encounter_id from appointments
    where encounter_id is not null
),

{# (entity, relation, record key expression, reference column, referenced entity,
    referenced relation, referenced column) -#}
{%- set slot_key = dbt.concat(['provider_id', "' @ '", dbt.cast('slot_start', dbt.type_string())]) -%}
{%- set timesheet_key = dbt.concat(['employee_id', "' @ '", dbt.cast('pay_period_start', dbt.type_string())]) -%}
{%- set gl_key = dbt.concat([dbt.cast('month', dbt.type_string()), "' / '", 'location_id', "' / '", 'account']) -%}
{%- set budget_key = dbt.concat([dbt.cast('month', dbt.type_string()), "' / '", 'location_id', "' / '", 'line']) -%}
{%- set checks = [
    ('transactions', 'transactions', 'transaction_id', 'claim_id', 'claims', 'claims', 'claim_id'),
    ('transactions', 'transactions', 'transaction_id', 'charge_id', 'charges', 'charges', 'charge_id'),
    ('charges', 'charges', 'charge_id', 'claim_id', 'claims', 'claims', 'claim_id'),
    ('charges', 'charges', 'charge_id', 'payer_id', 'payers', 'payers', 'payer_id'),
    ('charges', 'charges', 'charge_id', 'rendering_provider_id', 'staff', 'staff_providers', 'provider_id'),
    ('charges', 'charges', 'charge_id', 'location_id', 'locations', 'locations', 'location_id'),
    ('charges', 'charges', 'charge_id', 'encounter_id', 'appointments', 'encounters', 'encounter_id'),
    ('claims', 'claims', 'claim_id', 'payer_id', 'payers', 'payers', 'payer_id'),
    ('appointments', 'appointments', 'appointment_id', 'location_id', 'locations', 'locations', 'location_id'),
    ('appointments', 'appointments', 'appointment_id', 'provider_id', 'staff', 'staff_providers', 'provider_id'),
    ('provider_slots', 'provider_slots', slot_key, 'location_id', 'locations', 'locations', 'location_id'),
    ('provider_slots', 'provider_slots', slot_key, 'provider_id', 'staff', 'staff_providers', 'provider_id'),
    ('timesheets', 'timesheets', timesheet_key, 'employee_id', 'staff', 'staff', 'employee_id'),
    ('staff', 'staff', 'employee_id', 'location_id', 'locations', 'locations', 'location_id'),
    ('gl_expenses', 'gl_expenses', gl_key, 'location_id', 'locations', 'locations', 'location_id'),
    ('budget', 'budget', budget_key, 'location_id', 'locations', 'locations', 'location_id'),
] -%}

orphans as (
    {%- for entity, relation, record_key, column, ref_entity, ref_relation, ref_column in checks %}
        select
            '{{ entity }}' as entity,
            cast({{ record_key }} as {{ dbt.type_string() }}) as record_key,
            '{{ column }}' as reference_column,
            '{{ ref_entity }}' as referenced_entity,
            cast({{ relation }}.{{ column }} as {{ dbt.type_string() }}) as missing_value,
            {{ relation }}.delivery_id,
            {{ relation }}.source_file,
            {{ relation }}.source_line
        from {{ relation }}
        where {{ relation }}.{{ column }} is not null
            and not exists (
                select 1
                from {{ ref_relation }}
                where {{ ref_relation }}.{{ ref_column }} = {{ relation }}.{{ column }}
            )
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
)

select * from orphans
