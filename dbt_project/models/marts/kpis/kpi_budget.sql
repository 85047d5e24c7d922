-- budget_variance_<line> of KPI_SPEC.md "Cost": for each budget row of a complete month
-- (a month whose last day is on or before the as-of date, so the as-of month counts
-- only when the as-of date is its last day), actual - budget, numerator = actual,
-- denominator = budget (KPI_SPEC.md "Published outputs"). Month grain; location scope
-- per budget row, practice scope = the sum of the locations' budgets for the line
-- against practice actuals. Actuals are read where the KPI is defined:
-- completed_visits (kpi_access), gross_charges (kpi_production), collections = payments
-- (kpi_revenue_cycle), labor_cost (kpi_cost); any other line is a GL account, whose
-- actual is the month's gl_expenses amount (0 where there is none). Line and account
-- names are compared after trimming and lower-casing (docs/interpretations.md).
-- Quarter and year rows (fiscal, macros/fiscal_periods.sql) sum the month rows of their
-- complete months (year-to-date through the last complete month): actual, budget and
-- so the variance are sums of the months that have a budget row for the line.
-- measured_through is the last day of the last complete month a row sums: the day its
-- `complete` flag is judged at (KPI_SPEC.md "Complete rows"; kpi_values).
-- Grain: one row per (period_grain, period_start, scope, scope_id, kpi).
with

budget as (
    select * from {{ ref('stg_finance__budget') }}
),

gl_expenses as (
    select * from {{ ref('stg_finance__gl_expenses') }}
),

as_of as (
    select as_of_date from {{ ref('int_as_of') }}
),

access_kpis as (
    select * from {{ ref('kpi_access') }}
),

production_kpis as (
    select * from {{ ref('kpi_production') }}
),

revenue_cycle_kpis as (
    select * from {{ ref('kpi_revenue_cycle') }}
),

cost_kpis as (
    select * from {{ ref('kpi_cost') }}
),

complete_budget as (
    select
        cast(budget.month as date) as month,
        budget.location_id,
        lower(trim(budget.line)) as line,
        cast(budget.amount as double) as amount
    from budget
    cross join as_of
    where {{ dbt.last_day('budget.month', 'month') }} <= as_of.as_of_date
),

budgets as (
    select
        month,
        'location' as scope,
        location_id as scope_id,
        line,
        sum(amount) as budget
    from complete_budget
    group by month, location_id, line
    union all
    select
        month,
        'practice' as scope,
        'all' as scope_id,
        line,
        sum(amount) as budget
    from complete_budget
    group by month, line
),

volume_actuals as (
    {%- set volume_lines = [
        ('completed_visits', 'access_kpis', 'completed_visits'),
        ('gross_charges', 'production_kpis', 'gross_charges'),
        ('collections', 'revenue_cycle_kpis', 'payments'),
        ('labor_cost', 'cost_kpis', 'labor_cost'),
    ] %}
    {%- for line, relation, kpi in volume_lines %}
        select
            period_start as month,
            scope,
            scope_id,
            '{{ line }}' as line,
            value as actual
        from {{ relation }}
        where kpi = '{{ kpi }}'
            and period_grain = 'month'
            and scope in ('practice', 'location')
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

gl_lines as (
    select
        cast(month as date) as month,
        location_id,
        lower(trim(account)) as line,
        cast(amount as double) as amount
    from gl_expenses
    where lower(trim(account)) not in ('completed_visits', 'gross_charges', 'collections', 'labor_cost')
),

gl_actuals as (
    select
        month,
        'location' as scope,
        location_id as scope_id,
        line,
        sum(amount) as actual
    from gl_lines
    group by month, location_id, line
    union all
    select
        month,
        'practice' as scope,
        'all' as scope_id,
        line,
        sum(amount) as actual
    from gl_lines
    group by month, line
),

actuals as (
    select * from volume_actuals
    union all
    select * from gl_actuals
),

variances as (
    select
        budgets.month,
        budgets.scope,
        budgets.scope_id,
        budgets.line,
        coalesce(cast(actuals.actual as double), 0.0) as actual,
        budgets.budget
    from budgets
    left join actuals
        on budgets.month = actuals.month
            and budgets.scope = actuals.scope
            and budgets.scope_id = actuals.scope_id
            and budgets.line = actuals.line
),

periods as (
    select
        'month' as period_grain,
        month as period_start,
        scope,
        scope_id,
        line,
        actual,
        budget,
        cast({{ dbt.last_day('month', 'month') }} as date) as measured_through
    from variances
    {%- for grain in period_grains() if grain in ('quarter', 'year') %}
        union all
        select
            '{{ grain }}' as period_grain,
            {{ period_start_of(grain, 'variances.month') }} as period_start,
            scope,
            scope_id,
            line,
            sum(actual) as actual,
            sum(budget) as budget,
            max(cast({{ dbt.last_day('variances.month', 'month') }} as date)) as measured_through
        from variances
        group by {{ period_start_of(grain, 'variances.month') }}, scope, scope_id, line
    {%- endfor %}
)

select
    cast(period_grain as {{ dbt.type_string() }}) as period_grain,
    cast(period_start as date) as period_start,
    cast(scope as {{ dbt.type_string() }}) as scope,
    cast(scope_id as {{ dbt.type_string() }}) as scope_id,
    cast({{ dbt.concat(["'budget_variance_'", 'line']) }} as {{ dbt.type_string() }}) as kpi,
    cast(actual - budget as double) as value,
    cast(actual as double) as numerator,
    cast(budget as double) as denominator,
    measured_through
from periods
