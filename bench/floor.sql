-- The floor: a fixed core set of KPIs per location and month, written by hand against
-- the raw CSVs loaded as they are. It does what any build must do at least once (read
-- every row, group by location and month) and nothing a trusted build adds (validation,
-- newest version per key, local time, pseudonymisation, tests, every other KPI).
-- Timestamps are taken as the wall time written in the file; offsets are ignored.
create or replace table floor_kpis as
with

appointments_timed as (
    select
        location_id,
        status,
        date_trunc('month', cast(left(scheduled_start, 10) as date)) as month,
        cast(left(replace(checked_in_at, 'T', ' '), 19) as timestamp) as checked_in,
        cast(left(replace(roomed_at, 'T', ' '), 19) as timestamp) as roomed
    from appointments
),

visits as (
    select
        location_id,
        month,
        count(*) filter (where status = 'completed') as completed_visits,
        count(*) filter (where status = 'no_show') as no_shows,
        median(date_diff('second', checked_in, roomed) / 60.0)
            filter (where status = 'completed') as lobby_wait_median_min
    from appointments_timed
    group by all
),

gross as (
    select location_id, date_trunc('month', service_date) as month,
        sum(charge_amount) as gross_charges
    from charges
    group by all
),

claim_location as (
    select claim_id, arg_min(location_id, (service_date, charge_id)) as location_id
    from charges
    group by claim_id
),

ar_movements as (
    select location_id, date_trunc('month', posted_date) as month, sum(charge_amount) as amount
    from charges
    group by all
    union all
    select
        claim_location.location_id,
        date_trunc('month', transactions.posted_date) as month,
        sum(
            case when transactions.transaction_type = 'refund' then abs(transactions.amount)
                else -abs(transactions.amount) end
        ) as amount
    from transactions
    inner join claim_location on transactions.claim_id = claim_location.claim_id
    where transactions.transaction_type in (
        'payer_payment', 'patient_payment', 'contractual_adjustment', 'write_off', 'refund'
    )
    group by all
),

ar_by_month as (
    select location_id, month, sum(amount) as amount
    from ar_movements
    group by all
),

ar as (
    select
        location_id,
        month,
        sum(amount) over (
            partition by location_id order by month rows unbounded preceding
        ) as ar_balance_month_end
    from ar_by_month
),

labour as (
    select
        staff.location_id,
        date_trunc('month', pay_day.day) as month,
        sum(
            (coalesce(timesheets.gross_pay, 0) + coalesce(timesheets.benefits_cost, 0))
            / (timesheets.pay_period_end - timesheets.pay_period_start + 1)
        ) as labour_cost
    from timesheets
    inner join staff on timesheets.employee_id = staff.employee_id
    cross join lateral (
        select cast(unnest(generate_series(
            timesheets.pay_period_start, timesheets.pay_period_end, interval 1 day
        )) as date) as day
    ) as pay_day
    group by all
)

select
    location_id,
    month,
    coalesce(visits.completed_visits, 0) as completed_visits,
    visits.no_shows / nullif(visits.completed_visits + visits.no_shows, 0) as no_show_rate,
    visits.lobby_wait_median_min,
    coalesce(gross.gross_charges, 0) as gross_charges,
    ar.ar_balance_month_end,
    labour.labour_cost / nullif(visits.completed_visits, 0) as labour_cost_per_visit
from visits
full join gross using (location_id, month)
full join ar using (location_id, month)
full join labour using (location_id, month)
order by location_id, month;
