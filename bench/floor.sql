-- The floor: a fixed core set of KPIs per location and month, written by hand against
-- the raw CSVs (bench/floor.py loads them as text, `raw_<entity>`). It does what any
-- trusted build must do at least once: the contract checks of CONTRACTS.md on the raw
-- text (required values, types, enums, ranges), keeping only good rows, and the newest
-- delivery of each key (later file, then later line, wins). It leaves out what the
-- product adds beyond that (local time, pseudonymisation, history, data tests, every
-- other KPI). Timestamps are taken as the wall time written in the file.
create or replace macro is_money(v) as regexp_full_match(trim(v), '\d+(\.\d+)?');
create or replace macro is_number(v) as regexp_full_match(trim(v), '-?\d+(\.\d+)?');
create or replace macro is_date(v) as try_cast(trim(v) as date) is not null
    and regexp_full_match(trim(v), '\d{4}-\d{2}-\d{2}');
create or replace macro is_timestamp(v) as regexp_full_match(
    trim(v), '\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?'
);
create or replace macro present(v) as coalesce(trim(v), '') <> '';

create or replace table appointments as
select
    trim(appointment_id) as appointment_id,
    trim(location_id) as location_id,
    lower(trim(status)) as status,
    trim(scheduled_start) as scheduled_start,
    nullif(trim(checked_in_at), '') as checked_in_at,
    nullif(trim(roomed_at), '') as roomed_at
from raw_appointments
where present(appointment_id) and present(patient_id) and present(provider_id)
    and present(location_id) and present(appointment_type)
    and is_timestamp(booked_at) and is_timestamp(scheduled_start)
    and try_cast(trim(scheduled_minutes) as integer) > 0
    and lower(trim(status)) in ('scheduled', 'completed', 'no_show', 'cancelled')
    and (lower(trim(status)) <> 'cancelled' or present(cancelled_at))
    and (not present(cancelled_at) or is_timestamp(cancelled_at))
    and (not present(checked_in_at) or is_timestamp(checked_in_at))
    and (not present(roomed_at) or is_timestamp(roomed_at))
    and (not present(provider_start_at) or is_timestamp(provider_start_at))
    and (not present(checked_out_at) or is_timestamp(checked_out_at))
qualify row_number() over (partition by trim(appointment_id) order by _file desc, _line desc) = 1;

create or replace table charges as
select
    trim(charge_id) as charge_id,
    trim(claim_id) as claim_id,
    trim(location_id) as location_id,
    cast(trim(service_date) as date) as service_date,
    cast(trim(posted_date) as date) as posted_date,
    cast(trim(charge_amount) as decimal(18, 2)) as charge_amount
from raw_charges
where present(charge_id) and present(claim_id) and present(patient_id)
    and present(rendering_provider_id) and present(location_id) and present(payer_id)
    and is_date(service_date) and is_date(posted_date)
    and cast(trim(posted_date) as date) >= cast(trim(service_date) as date)
    and length(trim(cpt_code)) = 5
    and try_cast(trim(units) as integer) > 0
    and is_money(charge_amount)
qualify row_number() over (partition by trim(charge_id) order by _file desc, _line desc) = 1;

create or replace table transactions as
select
    trim(transaction_id) as transaction_id,
    trim(claim_id) as claim_id,
    cast(trim(posted_date) as date) as posted_date,
    lower(trim(transaction_type)) as transaction_type,
    cast(trim(amount) as decimal(18, 2)) as amount
from raw_transactions
where present(transaction_id) and present(claim_id) and is_date(posted_date)
    and lower(trim(transaction_type)) in (
        'payer_payment', 'patient_payment', 'contractual_adjustment', 'write_off', 'denial',
        'refund'
    )
    and is_money(amount)
qualify row_number() over (partition by trim(transaction_id) order by _file desc, _line desc) = 1;

create or replace table staff as
select trim(employee_id) as employee_id, trim(location_id) as location_id
from raw_staff
where present(employee_id) and present(full_name) and present(location_id)
    and lower(trim(role)) in (
        'physician', 'nurse_practitioner', 'physician_assistant', 'registered_nurse',
        'medical_assistant', 'front_desk', 'billing', 'manager', 'other'
    )
    and try_cast(trim(fte) as double) > 0 and try_cast(trim(fte) as double) <= 1
    and is_date(hire_date) and (not present(termination_date) or is_date(termination_date))
qualify row_number() over (partition by trim(employee_id) order by _file desc, _line desc) = 1;

create or replace table timesheets as
select
    trim(employee_id) as employee_id,
    cast(trim(pay_period_start) as date) as pay_period_start,
    cast(trim(pay_period_end) as date) as pay_period_end,
    cast(trim(gross_pay) as decimal(18, 2)) as gross_pay,
    cast(nullif(trim(benefits_cost), '') as decimal(18, 2)) as benefits_cost
from raw_timesheets
where present(employee_id) and is_date(pay_period_start) and is_date(pay_period_end)
    and cast(trim(pay_period_end) as date) >= cast(trim(pay_period_start) as date)
    and is_number(regular_hours) and cast(trim(regular_hours) as double) >= 0
    and is_number(overtime_hours) and cast(trim(overtime_hours) as double) >= 0
    and is_number(pto_hours) and cast(trim(pto_hours) as double) >= 0
    and is_money(gross_pay)
    and (not present(benefits_cost) or is_money(benefits_cost))
qualify row_number() over (
    partition by trim(employee_id), trim(pay_period_start) order by _file desc, _line desc
) = 1;

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
