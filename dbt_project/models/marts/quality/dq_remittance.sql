-- What 835 remittances report beyond transactions (docs/contracts.md "X12 835"):
-- provider-level adjustments (PLB), landed but attributed to no claim, and the patient
-- responsibility (CAS group PR) the payer moved to the patient, which is no A/R movement.
-- Figures of a file delivered again replace nothing: each delivery's figures are listed.
-- Grain: one row per reported figure (delivery, file, segment, kind, reason).
with

remittance as (
    select * from {{ source('lake', 'remittance') }}
)

select
    _delivery_id as delivery_id,
    _source_file as source_file,
    _line as source_segment,
    kind,
    posted_date,
    payer_id,
    trace_number,
    claim_id,
    charge_id,
    reason_code,
    amount
from remittance
