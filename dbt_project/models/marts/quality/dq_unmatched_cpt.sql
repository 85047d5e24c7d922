-- Charge lines whose code has no work RVU (KPI_SPEC.md work_rvus: "a code with neither
-- contributes 0 and is reported as unmatched"): neither the code with the line's
-- modifier nor the code with an empty modifier is in the CMS fee schedule seed.
-- Grain: one row per unmatched charge line (charge_id).
with

charges as (
    select * from {{ ref('fct_charges') }}
)

select
    charge_id,
    claim_id,
    cpt_code,
    modifier,
    units,
    service_date,
    location_id,
    rendering_provider_id,
    source_file,
    source_line
from charges
where not rvu_matched
