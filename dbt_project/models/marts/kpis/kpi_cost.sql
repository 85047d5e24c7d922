-- Cost KPIs of KPI_SPEC.md "Cost": labor_cost, non_labor_cost, operating_cost,
-- cost_per_visit, labor_cost_per_visit, overtime_share, operating_margin,
-- operating_margin_pct, support_staff_per_provider_fte and staff_turnover_rate, in the
-- long shape of "Published outputs". A KPI is defined once: completed_visits is read
-- from kpi_access and payments from kpi_revenue_cycle, at the same period and scope.
-- Cost KPIs have no provider scope; labour follows the employee's home location (a
-- timesheet of an employee missing from staff counts at practice scope only),
-- non-labour cost its GL location, staffing the staff home location.
-- Row existence: the flow KPIs where spread pay-period or GL days fall in the period and
-- scope, a derived KPI where any of its parts has a row (a missing part counts 0); the
-- staffing KPIs for every period from the one holding the practice's first appointment
-- or charge up to the as-of period, in scopes with a staff member active on any day of
-- the period (docs/interpretations.md).
-- Grain: one row per (period_grain, period_start, scope, scope_id, kpi).
with

labor_days as (
    select * from {{ ref('int_labor_cost_by_day') }}
),

non_labor_days as (
    select * from {{ ref('int_non_labor_cost_by_day') }}
),

staff_days as (
    select * from {{ ref('int_staff_active_by_day') }}
),

staff as (
    select * from {{ ref('stg_hr__staff') }}
),

periods as (
    select * from {{ ref('int_periods') }}
),

appointments as (
    select * from {{ ref('int_appointments_localised') }}
),

charges as (
    select * from {{ ref('stg_billing__charges') }}
),

access_kpis as (
    select * from {{ ref('kpi_access') }}
),

revenue_cycle_kpis as (
    select * from {{ ref('kpi_revenue_cycle') }}
),

labor as (
    select
        period_grain,
        period_start,
        scope,
        scope_id,
        sum(labor_cost) as labor_cost,
        sum(regular_hours) as regular_hours,
        sum(overtime_hours) as overtime_hours
    from (
        {{ explode_scopes('labor_days', 'day', 'location_id', none) }}
    ) as labor_scoped
    group by period_grain, period_start, scope, scope_id
),

non_labor as (
    select
        period_grain,
        period_start,
        scope,
        scope_id,
        sum(non_labor_cost) as non_labor_cost
    from (
        {{ explode_scopes('non_labor_days', 'day', 'location_id', none) }}
    ) as non_labor_scoped
    group by period_grain, period_start, scope, scope_id
),

visits as (
    select
        period_grain,
        period_start,
        scope,
        scope_id,
        value as completed_visits
    from access_kpis
    where kpi = 'completed_visits'
        and scope in ('practice', 'location')
),

payments as (
    select
        period_grain,
        period_start,
        scope,
        scope_id,
        value as payments
    from revenue_cycle_kpis
    where kpi = 'payments'
        and scope in ('practice', 'location')
),

keys as (
    select
        period_grain,
        period_start,
        scope,
        scope_id
    from labor
    union
    select
        period_grain,
        period_start,
        scope,
        scope_id
    from non_labor
    union
    select
        period_grain,
        period_start,
        scope,
        scope_id
    from visits
    union
    select
        period_grain,
        period_start,
        scope,
        scope_id
    from payments
),

-- A part without a row in the period and scope counts 0; the has_* flags keep each
-- KPI to the rows where one of its own parts has data.
parts as (
    select
        keys.period_grain,
        keys.period_start,
        keys.scope,
        keys.scope_id,
        labor.scope is not null as has_labor,
        non_labor.scope is not null as has_non_labor,
        visits.scope is not null as has_visits,
        payments.scope is not null as has_payments,
        coalesce(labor.labor_cost, 0.0) as labor_cost,
        coalesce(labor.regular_hours, 0.0) as regular_hours,
        coalesce(labor.overtime_hours, 0.0) as overtime_hours,
        coalesce(non_labor.non_labor_cost, 0.0) as non_labor_cost,
        coalesce(labor.labor_cost, 0.0) + coalesce(non_labor.non_labor_cost, 0.0) as operating_cost,
        coalesce(cast(visits.completed_visits as double), 0.0) as completed_visits,
        coalesce(cast(payments.payments as double), 0.0) as payments
    from keys
    {%- for part in ['labor', 'non_labor', 'visits', 'payments'] %}
    left join {{ part }}
        on keys.period_grain = {{ part }}.period_grain
            and keys.period_start = {{ part }}.period_start
            and keys.scope = {{ part }}.scope
            and keys.scope_id = {{ part }}.scope_id
    {%- endfor %}
),

-- The data's start: the practice's first appointment (any status) or charge.
data_start as (
    select min(day) as first_day
    from (
        select scheduled_date as day from appointments
        union all
        select service_date as day from charges
        union all
        select posted_date as day from charges
    ) as activity
),

reported_periods as (
    select periods.*
    from periods
    cross join data_start
    where periods.period_end >= data_start.first_day
),

staff_scoped as (
    select
        'practice' as scope,
        'all' as scope_id,
        employee_id,
        hire_date,
        termination_date
    from staff
    union all
    select
        'location' as scope,
        location_id as scope_id,
        employee_id,
        hire_date,
        termination_date
    from staff
),

staff_days_scoped as (
    select
        'practice' as scope,
        'all' as scope_id,
        day,
        employee_id,
        fte,
        is_clinician,
        is_provider
    from staff_days
    union all
    select
        'location' as scope,
        location_id as scope_id,
        day,
        employee_id,
        fte,
        is_clinician,
        is_provider
    from staff_days
),

staffed_periods as (
    select distinct
        reported_periods.period_grain,
        reported_periods.period_start,
        reported_periods.period_end,
        -- Calendar days from the period's first day to its (possibly shortened) last day.
        {{ days_between('reported_periods.period_start', 'reported_periods.period_end') }}
        + 1 as days_in_period,
        staff_scoped.scope,
        staff_scoped.scope_id
    from reported_periods
    inner join staff_scoped
        on reported_periods.period_end >= staff_scoped.hire_date
            and (
                staff_scoped.termination_date is null
                or reported_periods.period_start <= staff_scoped.termination_date
            )
),

at_period_end as (
    select
        staffed_periods.period_grain,
        staffed_periods.period_start,
        staffed_periods.scope,
        staffed_periods.scope_id,
        sum(case when staff_days_scoped.is_provider then staff_days_scoped.fte else 0.0 end) as provider_fte,
        sum(case when not staff_days_scoped.is_clinician then staff_days_scoped.fte else 0.0 end)
            as support_fte,
        count(staff_days_scoped.employee_id) as headcount
    from staffed_periods
    left join staff_days_scoped
        on staffed_periods.scope = staff_days_scoped.scope
            and staffed_periods.scope_id = staff_days_scoped.scope_id
            and staffed_periods.period_end = staff_days_scoped.day
    group by
        staffed_periods.period_grain,
        staffed_periods.period_start,
        staffed_periods.scope,
        staffed_periods.scope_id
),

-- Headcount on the period's first day straight from staff: a period that starts
-- before the calendar's first day (a month holding the first data week) has no day
-- rows there.
at_period_start as (
    select
        staffed_periods.period_grain,
        staffed_periods.period_start,
        staffed_periods.scope,
        staffed_periods.scope_id,
        count(staff_scoped.employee_id) as headcount
    from staffed_periods
    left join staff_scoped
        on staffed_periods.scope = staff_scoped.scope
            and staffed_periods.scope_id = staff_scoped.scope_id
            and staffed_periods.period_start >= staff_scoped.hire_date
            and (
                staff_scoped.termination_date is null
                or staffed_periods.period_start <= staff_scoped.termination_date
            )
    group by
        staffed_periods.period_grain,
        staffed_periods.period_start,
        staffed_periods.scope,
        staffed_periods.scope_id
),

terminations as (
    select
        staffed_periods.period_grain,
        staffed_periods.period_start,
        staffed_periods.scope,
        staffed_periods.scope_id,
        count(staff_scoped.employee_id) as terminations
    from staffed_periods
    left join staff_scoped
        on staffed_periods.scope = staff_scoped.scope
            and staffed_periods.scope_id = staff_scoped.scope_id
            and staffed_periods.period_start <= staff_scoped.termination_date
            and staffed_periods.period_end >= staff_scoped.termination_date
    group by
        staffed_periods.period_grain,
        staffed_periods.period_start,
        staffed_periods.scope,
        staffed_periods.scope_id
),

staffing as (
    select
        staffed_periods.period_grain,
        staffed_periods.period_start,
        staffed_periods.scope,
        staffed_periods.scope_id,
        at_period_end.provider_fte,
        at_period_end.support_fte,
        cast(terminations.terminations as double) as terminations,
        (cast(at_period_start.headcount as double) + cast(at_period_end.headcount as double)) / 2.0
        * cast(staffed_periods.days_in_period as double) / 365.0 as headcount_years
    from staffed_periods
    {%- for part in ['at_period_end', 'at_period_start', 'terminations'] %}
    inner join {{ part }}
        on staffed_periods.period_grain = {{ part }}.period_grain
            and staffed_periods.period_start = {{ part }}.period_start
            and staffed_periods.scope = {{ part }}.scope
            and staffed_periods.scope_id = {{ part }}.scope_id
    {%- endfor %}
),

kpis as (
    select
        period_grain,
        period_start,
        scope,
        scope_id,
        'labor_cost' as kpi,
        labor_cost as value,
        labor_cost as numerator,
        cast(null as double) as denominator
    from parts
    where has_labor

    union all

    select
        period_grain,
        period_start,
        scope,
        scope_id,
        'non_labor_cost' as kpi,
        non_labor_cost as value,
        non_labor_cost as numerator,
        cast(null as double) as denominator
    from parts
    where has_non_labor

    union all

    select
        period_grain,
        period_start,
        scope,
        scope_id,
        'operating_cost' as kpi,
        operating_cost as value,
        operating_cost as numerator,
        cast(null as double) as denominator
    from parts
    where has_labor or has_non_labor

    union all

    select
        period_grain,
        period_start,
        scope,
        scope_id,
        'cost_per_visit' as kpi,
        {{ safe_divide('operating_cost', 'completed_visits') }} as value,
        operating_cost as numerator,
        completed_visits as denominator
    from parts
    where has_labor or has_non_labor or has_visits

    union all

    select
        period_grain,
        period_start,
        scope,
        scope_id,
        'labor_cost_per_visit' as kpi,
        {{ safe_divide('labor_cost', 'completed_visits') }} as value,
        labor_cost as numerator,
        completed_visits as denominator
    from parts
    where has_labor or has_visits

    union all

    -- PTO hours are left out of both sides (KPI_SPEC.md).
    select
        period_grain,
        period_start,
        scope,
        scope_id,
        'overtime_share' as kpi,
        {{ safe_divide('overtime_hours', 'regular_hours + overtime_hours') }} as value,
        overtime_hours as numerator,
        regular_hours + overtime_hours as denominator
    from parts
    where has_labor

    union all

    select
        period_grain,
        period_start,
        scope,
        scope_id,
        'operating_margin' as kpi,
        payments - operating_cost as value,
        payments - operating_cost as numerator,
        cast(null as double) as denominator
    from parts
    where has_labor or has_non_labor or has_payments

    union all

    select
        period_grain,
        period_start,
        scope,
        scope_id,
        'operating_margin_pct' as kpi,
        {{ safe_divide('payments - operating_cost', 'payments') }} as value,
        payments - operating_cost as numerator,
        payments as denominator
    from parts
    where has_labor or has_non_labor or has_payments

    union all

    select
        period_grain,
        period_start,
        scope,
        scope_id,
        'support_staff_per_provider_fte' as kpi,
        {{ safe_divide('support_fte', 'provider_fte') }} as value,
        support_fte as numerator,
        provider_fte as denominator
    from staffing

    union all

    select
        period_grain,
        period_start,
        scope,
        scope_id,
        'staff_turnover_rate' as kpi,
        {{ safe_divide('terminations', 'headcount_years') }} as value,
        terminations as numerator,
        headcount_years as denominator
    from staffing
)

select
    {{ kpi_columns() }}
from kpis
