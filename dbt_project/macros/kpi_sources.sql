{#-
  Which sources each KPI reads (KPI_SPEC.md "Complete rows"), for `complete` in
  kpi_values and for anything that names the source that holds a row back: per source,
  exact KPI names, then name prefixes of the families (payer_mix_<class>,
  ar_aging_<bucket>). A budget_variance line reads its line's source: the four volume
  lines below, any other line (a GL account) the ledger. Coverage ends per source:
  int_source_coverage.<source>_end.
-#}
{% macro kpi_sources() -%}
    {{ return({
        'scheduling': {
            'names': [
                'completed_visits', 'no_show_rate', 'late_cancel_rate', 'new_patient_lead_time_days',
                'lobby_wait_min_p50', 'lobby_wait_min_p90', 'wait_for_provider_min_p50',
                'wait_for_provider_min_p90', 'cycle_time_min_p50', 'cycle_time_min_p90',
                'schedule_utilization', 'third_next_available_days', 'new_patient_share',
                'visits_per_provider_fte', 'cost_per_visit', 'labor_cost_per_visit',
                'budget_variance_completed_visits',
            ],
            'prefixes': [],
        },
        'billing': {
            'names': [
                'gross_charges', 'work_rvus', 'charge_lag_days', 'payments', 'ar_balance',
                'ar_credit_balance', 'days_in_ar', 'ar_over_90_share', 'initial_denial_rate',
                'net_collection_rate', 'work_rvus_per_provider_fte', 'operating_margin',
                'operating_margin_pct', 'budget_variance_gross_charges', 'budget_variance_collections',
            ],
            'prefixes': ['payer_mix_', 'ar_aging_'],
        },
        'payroll': {
            'names': [
                'labor_cost', 'overtime_share', 'operating_cost', 'cost_per_visit',
                'labor_cost_per_visit', 'operating_margin', 'operating_margin_pct',
                'budget_variance_labor_cost',
            ],
            'prefixes': [],
        },
        'ledger': {
            'names': [
                'non_labor_cost', 'operating_cost', 'cost_per_visit', 'operating_margin',
                'operating_margin_pct',
            ],
            'prefixes': [],
        },
    }) }}
{%- endmacro %}

{#- Staff KPIs read no dated source: always complete. -#}
{% macro kpi_sources_staff() -%}
    {{ return(['support_staff_per_provider_fte', 'staff_turnover_rate']) }}
{%- endmacro %}

{#- The budget lines read from a KPI's own source; every other line is a GL account. -#}
{% macro kpi_sources_budget_lines() -%}
    {{ return([
    'budget_variance_completed_visits', 'budget_variance_gross_charges',
    'budget_variance_collections', 'budget_variance_labor_cost',
]) }}
{%- endmacro %}
