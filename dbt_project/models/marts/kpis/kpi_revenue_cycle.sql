-- Revenue-cycle KPIs of KPI_SPEC.md "Revenue cycle". All follow the claim's attribution
-- (location and rendering provider of its first charge line; a claim without a charge
-- line counts at practice scope only), also for the charges in A/R, in days_in_ar and in
-- net_collection_rate, since A/R is computed at claim level; nothing posted after the
-- as-of date counts (docs/interpretations.md).
-- Flow KPIs (rows where the scope has source rows in the period):
-- - payments: sum of payer_payment + patient_payment - refund, by posted_date (a row
--   wherever a transaction of any type was posted);
-- - initial_denial_rate: claims whose first payer response falls in the period, share
--   whose first-response day includes a denial (int_claims_first_response);
-- - net_collection_rate: (payer_payment + patient_payment - refund) / (charge_amount -
--   contractual_adjustment) by service-month cohort (a transaction follows its charge's
--   service month, else its claim's first line's), month grain only, for months whose
--   last day is at least 90 days before the as-of date (inclusive); a row where the
--   cohort has charges or transactions in the scope.
-- Point-in-time KPIs at D = the period's last day (int_periods.period_end, shortened at
-- the as-of date), a row for every period from the first in which the scope has a charge
-- or transaction (of any type) posted up to the as-of period:
-- - ar_balance: charges posted <= D - payments, adjustments and write-offs posted <= D +
--   refunds posted <= D (numerator and denominator null);
-- - days_in_ar: ar_balance / (charges posted in D-89 .. D / 90);
-- - ar_credit_balance: - the sum of the claim balances at D that are < 0 (a positive
--   amount, 0 when no claim is in credit), not aged;
-- - ar_aging_<bucket>: claim debit balances at D (claims with balance > 0) by D -
--   first_service_date (0-30, 31-60, 61-90, 91-120, over 120), so the buckets add up to
--   ar_balance + ar_credit_balance and are never negative; a claim without a charge line
--   is aged 0-30 (and so is a negative age);
-- - ar_over_90_share: debit in 91-120 + over 120 / all debit balances, within 0-1.
-- Debit and credit parts come from int_claims_balance_movements' debit_movement and
-- credit_movement, which stay additive over claims.
-- Grain: one row per (period_grain, period_start, scope, scope_id, kpi).
with

as_of as (
    select as_of_date from {{ ref('int_as_of') }}
),

periods as (
    select * from {{ ref('int_periods') }}
),

movements as (
    select * from {{ ref('int_claims_balance_movements') }}
),

first_responses as (
    select * from {{ ref('int_claims_first_response') }}
),

fct_transactions as (
    select * from {{ ref('fct_transactions') }}
),

fct_charges as (
    select * from {{ ref('fct_charges') }}
),

claims as (
    select * from {{ ref('int_claims_attributed') }}
),

transactions as (
    select fct_transactions.*
    from fct_transactions
    inner join as_of
        on fct_transactions.posted_date <= as_of.as_of_date
),

-- Every flow is summed per attribution and day (or cohort month) before it fans out to
-- the six scopes: the sums are decimal or counts, so adding day totals gives exactly the
-- period total, and six copies of a few thousand rows per day replace six copies of
-- every transaction (on 4 M transactions the fan-out was most of this model's time).

-- payments ------------------------------------------------------------------------------

payment_rows as (
    select
        location_id,
        provider_id,
        posted_date,
        sum(payment) as payment
    from transactions
    group by location_id, provider_id, posted_date
),

payments as (
    select
        period_grain,
        period_start,
        scope,
        scope_id,
        sum(payment) as payments
    from (
        {{ explode_scopes('payment_rows', 'posted_date') }}
    ) as payments_scoped
    group by period_grain, period_start, scope, scope_id
),

-- initial_denial_rate --------------------------------------------------------------------

response_days as (
    select
        location_id,
        provider_id,
        first_response_date,
        sum(case when is_initial_denial then 1 else 0 end) as denied_claims,
        count(*) as responded_claims
    from first_responses
    group by location_id, provider_id, first_response_date
),

denials as (
    select
        period_grain,
        period_start,
        scope,
        scope_id,
        sum(denied_claims) as denied_claims,
        sum(responded_claims) as responded_claims
    from (
        {{ explode_scopes('response_days', 'first_response_date') }}
    ) as responses_scoped
    group by period_grain, period_start, scope, scope_id
),

-- net_collection_rate --------------------------------------------------------------------

cohort_rows as (
    select
        claims.location_id,
        claims.provider_id,
        cast({{ dbt.date_trunc('month', 'fct_charges.service_date') }} as date) as cohort_service_month,
        fct_charges.charge_amount,
        {{ billing_money(0) }} as payment,
        {{ billing_money(0) }} as contractual_adjustment
    from fct_charges
    inner join as_of
        on fct_charges.posted_date <= as_of.as_of_date
    inner join claims
        on fct_charges.claim_id = claims.claim_id
    union all
    select
        location_id,
        provider_id,
        cohort_service_month,
        {{ billing_money(0) }} as charge_amount,
        payment,
        case when transaction_type = 'contractual_adjustment' then amount else {{ billing_money(0) }} end
            as contractual_adjustment
    from transactions
    where cohort_service_month is not null
),

cohort_totals as (
    select
        location_id,
        provider_id,
        cohort_service_month,
        sum(charge_amount) as charge_amount,
        sum(payment) as payment,
        sum(contractual_adjustment) as contractual_adjustment
    from cohort_rows
    group by location_id, provider_id, cohort_service_month
),

collections as (
    select
        period_grain,
        period_start,
        scope,
        scope_id,
        sum(payment) as collected,
        sum(charge_amount) - sum(contractual_adjustment) as collectible
    from (
        {{ explode_scopes('cohort_totals', 'cohort_service_month', grains=['month']) }}
    ) as cohorts_scoped
    cross join as_of
    where period_grain = 'month'
        and {{ days_between(dbt.last_day('period_start', 'month'), 'as_of.as_of_date') }} >= 90
    group by period_grain, period_start, scope, scope_id
),

-- A/R at D -------------------------------------------------------------------------------

daily_movements as (
    select
        location_id,
        provider_id,
        first_service_date,
        posted_date,
        sum(charges_posted) as charges_posted,
        sum(ar_movement) as ar_movement,
        sum(debit_movement) as debit_movement,
        sum(credit_movement) as credit_movement
    from movements
    group by location_id, provider_id, first_service_date, posted_date
),

-- Every A/R measure at D is a running total of deltas keyed by the day they start to
-- count. A claim's movement counts in the balance aged N days or more at D when it was
-- posted on or before D and first_service_date <= D - N, i.e. from the day
-- greatest(posted_date, first_service_date + N): keyed that way, each bucket edge is a
-- plain running total per scope, with no claims x period-ends join. Likewise a charge
-- counts in the 90-day window D-89 .. D from its posted_date until posted_date + 89.
deltas as (
    select
        location_id,
        provider_id,
        'ar_balance' as measure,
        posted_date as effective_date,
        ar_movement as amount
    from daily_movements
    union all
    select
        location_id,
        provider_id,
        'debit' as measure,
        posted_date as effective_date,
        debit_movement as amount
    from daily_movements
    union all
    select
        location_id,
        provider_id,
        'credit' as measure,
        posted_date as effective_date,
        credit_movement as amount
    from daily_movements
    {%- for min_age in [31, 61, 91, 121] %}
        union all
        select
            location_id,
            provider_id,
            'aged_{{ min_age }}' as measure,
            greatest(posted_date, {{ add_days('first_service_date', min_age) }}) as effective_date,
            debit_movement as amount
        from daily_movements
        where first_service_date is not null
    {%- endfor %}
    union all
    select
        location_id,
        provider_id,
        'charges_90d' as measure,
        posted_date as effective_date,
        charges_posted as amount
    from daily_movements
    union all
    select
        location_id,
        provider_id,
        'charges_90d' as measure,
        {{ add_days('posted_date', 90) }} as effective_date,
        -charges_posted as amount
    from daily_movements
),

daily_deltas as (
    select
        deltas.location_id,
        deltas.provider_id,
        deltas.measure,
        deltas.effective_date,
        sum(deltas.amount) as amount
    from deltas
    inner join as_of
        on deltas.effective_date <= as_of.as_of_date
    group by deltas.location_id, deltas.provider_id, deltas.measure, deltas.effective_date
),

period_deltas as (
    select
        period_grain,
        period_start,
        scope,
        scope_id,
        sum(case when measure = 'ar_balance' then amount else 0 end) as ar_balance,
        sum(case when measure = 'debit' then amount else 0 end) as debit,
        sum(case when measure = 'credit' then amount else 0 end) as credit,
        {%- for min_age in [31, 61, 91, 121] %}
            sum(case when measure = 'aged_{{ min_age }}' then amount else 0 end) as aged_{{ min_age }},
        {%- endfor %}
        sum(case when measure = 'charges_90d' then amount else 0 end) as charges_90d
    from (
        {{ explode_scopes('daily_deltas', 'effective_date') }}
    ) as deltas_scoped
    group by period_grain, period_start, scope, scope_id
),

posting_days as (
    select distinct
        location_id,
        provider_id,
        posted_date
    from daily_movements
),

first_periods as (
    select
        period_grain,
        scope,
        scope_id,
        min(period_start) as first_period_start
    from (
        {{ explode_scopes('posting_days', 'posted_date') }}
    ) as postings_scoped
    group by period_grain, scope, scope_id
),

ar_grid as (
    select
        periods.period_grain,
        periods.period_start,
        first_periods.scope,
        first_periods.scope_id
    from first_periods
    inner join periods
        on first_periods.period_grain = periods.period_grain
            and first_periods.first_period_start <= periods.period_start
),

ar_at_d as (
    select
        ar_grid.period_grain,
        ar_grid.period_start,
        ar_grid.scope,
        ar_grid.scope_id,
    {%- for measure in ['ar_balance', 'debit', 'credit', 'aged_31', 'aged_61', 'aged_91', 'aged_121', 'charges_90d'] %}
        sum(coalesce(period_deltas.{{ measure }}, 0)) over (
            partition by ar_grid.period_grain, ar_grid.scope, ar_grid.scope_id
            order by ar_grid.period_start
            rows between unbounded preceding and current row
            ) as {{ measure }}{{ ',' if not loop.last }}
    {%- endfor %}
    from ar_grid
    left join period_deltas
        on ar_grid.period_grain = period_deltas.period_grain
            and ar_grid.period_start = period_deltas.period_start
            and ar_grid.scope = period_deltas.scope
            and ar_grid.scope_id = period_deltas.scope_id
),

-- long shape -----------------------------------------------------------------------------

kpis as (
    select
        period_grain,
        period_start,
        scope,
        scope_id,
        'payments' as kpi,
        cast(payments as double) as value,
        cast(payments as double) as numerator,
        cast(null as double) as denominator
    from payments
    union all
    select
        period_grain,
        period_start,
        scope,
        scope_id,
        'initial_denial_rate' as kpi,
        {{ safe_divide('denied_claims', 'responded_claims') }} as value,
        cast(denied_claims as double) as numerator,
        cast(responded_claims as double) as denominator
    from denials
    union all
    select
        period_grain,
        period_start,
        scope,
        scope_id,
        'net_collection_rate' as kpi,
        {{ safe_divide('collected', 'collectible') }} as value,
        cast(collected as double) as numerator,
        cast(collectible as double) as denominator
    from collections
    union all
    select
        period_grain,
        period_start,
        scope,
        scope_id,
        'ar_balance' as kpi,
        cast(ar_balance as double) as value,
        cast(null as double) as numerator,
        cast(null as double) as denominator
    from ar_at_d
    union all
    select
        period_grain,
        period_start,
        scope,
        scope_id,
        'days_in_ar' as kpi,
        {{ safe_divide('ar_balance', 'cast(charges_90d as double) / 90.0') }} as value,
        cast(ar_balance as double) as numerator,
        cast(charges_90d as double) / 90.0 as denominator
    from ar_at_d
    union all
    select
        period_grain,
        period_start,
        scope,
        scope_id,
        'ar_credit_balance' as kpi,
        cast(credit as double) as value,
        cast(null as double) as numerator,
        cast(null as double) as denominator
    from ar_at_d
    {%- for kpi, upper_measure, lower_measure in [
        ('ar_aging_0_30', 'debit', 'aged_31'),
        ('ar_aging_31_60', 'aged_31', 'aged_61'),
        ('ar_aging_61_90', 'aged_61', 'aged_91'),
        ('ar_aging_91_120', 'aged_91', 'aged_121'),
        ('ar_aging_over_120', 'aged_121', none),
    ] %}
        union all
        select
            period_grain,
            period_start,
            scope,
            scope_id,
            '{{ kpi }}' as kpi,
            cast({{ upper_measure }}{% if lower_measure %} - {{ lower_measure }}{% endif %} as double)
                as value,
            cast(null as double) as numerator,
            cast(null as double) as denominator
        from ar_at_d
    {%- endfor %}
    union all
    select
        period_grain,
        period_start,
        scope,
        scope_id,
        'ar_over_90_share' as kpi,
        {{ safe_divide('aged_91', 'debit') }} as value,
        cast(aged_91 as double) as numerator,
        cast(debit as double) as denominator
    from ar_at_d
)

select
    cast(period_grain as {{ dbt.type_string() }}) as period_grain,
    cast(period_start as date) as period_start,
    cast(scope as {{ dbt.type_string() }}) as scope,
    cast(scope_id as {{ dbt.type_string() }}) as scope_id,
    cast(kpi as {{ dbt.type_string() }}) as kpi,
    value,
    numerator,
    denominator
from kpis
