-- Claim lines: one billed CPT/HCPCS code with its units and amount.
-- Grain: one row per charge line (charge_id), the newest version of its key.
{%- set key_columns = ['charge_id'] %}
{{ config(
    unique_key=key_columns,
    pre_hook="{{ forget_before_newest_snapshot(source('lake', 'charges')) }}",
) }}

with

newest as (
    {{ newest_version(source('lake', 'charges'), key_columns) }}
)

select
    charge_id,
    claim_id,
    encounter_id,
    patient_key,
    rendering_provider_id,
    location_id,
    payer_id,
    service_date,
    posted_date,
    cpt_code,
    modifier,
    units,
    charge_amount,
    _delivery_id as delivery_id,
    _source_file as source_file,
    _line as source_line
from newest
