-- Charge lines priced in work RVUs (KPI_SPEC.md work_rvus and data/README.md): the CMS
-- fee schedule row for the line's code and modifier where one exists (both compared after
-- trimming and upper-casing), else the code's row with an empty modifier; a code with
-- neither (absent, or present only with other modifiers) gets 0 and rvu_matched = false,
-- to be reported as unmatched. Every CMS status code is used as it is. work_rvus =
-- work_rvu x units. financial_class comes from the charge's payer, 'unknown' when the
-- payer is missing from payers.csv. Production KPIs follow the line's own location and
-- rendering provider. Personal data (patient_key) is left out. Built once from staging
-- so that every billing model downstream reads a table, not the staging view again.
-- Grain: one row per charge line (charge_id).
with

charges as (
    select * from {{ ref('stg_billing__charges') }}
),

rvus as (
    select * from {{ ref('cms_pfs_rvu_2025') }}
),

payers as (
    select * from {{ ref('stg_billing__payers') }}
),

coded as (
    select
        charges.*,
        {{ billing_code('charges.cpt_code') }} as code,
        {{ billing_code('charges.modifier') }} as code_modifier
    from charges
),

rvu_rows as (
    select
        {{ billing_code('hcpcs') }} as code,
        {{ billing_code('modifier') }} as code_modifier,
        work_rvu
    from rvus
)

select
    coded.charge_id,
    coded.claim_id,
    coded.encounter_id,
    coded.location_id,
    coded.rendering_provider_id,
    coded.payer_id,
    coalesce(lower(trim(payers.financial_class)), 'unknown') as financial_class,
    coded.service_date,
    coded.posted_date,
    {{ days_between('coded.service_date', 'coded.posted_date') }} as charge_lag_days,
    coded.code as cpt_code,
    nullif(coded.code_modifier, '') as modifier,
    coded.units,
    {{ billing_money('coded.charge_amount') }} as charge_amount,
    cast(coalesce(with_modifier.work_rvu, code_only.work_rvu, 0) as decimal(8, 2)) as work_rvu,
    cast(coalesce(with_modifier.work_rvu, code_only.work_rvu, 0) * coded.units as decimal(18, 2))
        as work_rvus,
    coalesce(with_modifier.code, code_only.code) is not null as rvu_matched,
    case
        when with_modifier.code is not null and coded.code_modifier <> '' then 'code_and_modifier'
        when coalesce(with_modifier.code, code_only.code) is not null then 'code'
        else 'unmatched'
    end as rvu_match,
    coded.delivery_id,
    coded.source_file,
    coded.source_line
from coded
left join rvu_rows as with_modifier
    on coded.code = with_modifier.code
        and coded.code_modifier = with_modifier.code_modifier
left join rvu_rows as code_only
    on coded.code = code_only.code
        and code_only.code_modifier = ''
left join payers
    on coded.payer_id = payers.payer_id
