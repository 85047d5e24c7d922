-- Claim lines: one billed CPT/HCPCS code with its units and amount.
-- Grain: one row per charge line (charge_id), the newest version of its key.
with

newest as (
    {{ newest_version(source('lake', 'charges'), ['charge_id']) }}
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
