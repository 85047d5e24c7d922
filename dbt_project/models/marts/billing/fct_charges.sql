-- Charge lines priced in work RVUs, with their payer's financial class
-- (int_charges_priced holds the KPI_SPEC.md work RVU lookup). Production KPIs follow the
-- line's own location and rendering provider. No personal data.
-- Grain: one row per charge line (charge_id).
-- The mart publishes every column of int_charges_priced.
select * from {{ ref('int_charges_priced') }}  -- noqa: AM04
