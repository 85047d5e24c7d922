"""How a published number is written on screen: units, "–" for nulls and why.

A null KPI value means its denominator was zero in that period (KPI_SPEC.md); the page
shows "–" and says which denominator, rather than a misleading 0.
"""

from __future__ import annotations

import math
import os

import pandas as pd

NULL = "–"

LABELS: dict[str, str] = {
    "completed_visits": "Completed visits",
    "no_show_rate": "No-show rate",
    "late_cancel_rate": "Late-cancel rate",
    "new_patient_lead_time_days": "New-patient lead time",
    "schedule_utilization": "Schedule utilisation",
    "third_next_available_days": "Third next available",
    "lobby_wait_min_p50": "Lobby wait (median)",
    "lobby_wait_min_p90": "Lobby wait (p90)",
    "wait_for_provider_min_p50": "Wait for provider (median)",
    "wait_for_provider_min_p90": "Wait for provider (p90)",
    "cycle_time_min_p50": "Cycle time (median)",
    "cycle_time_min_p90": "Cycle time (p90)",
    "work_rvus": "Work RVUs",
    "visits_per_provider_fte": "Visits per provider FTE",
    "work_rvus_per_provider_fte": "wRVUs per provider FTE",
    "gross_charges": "Gross charges",
    "new_patient_share": "New-patient share",
    "payments": "Payments (collections)",
    "ar_balance": "A/R balance",
    "days_in_ar": "Days in A/R",
    "ar_over_90_share": "A/R over 90 days",
    "initial_denial_rate": "Initial denial rate",
    "net_collection_rate": "Net collection rate",
    "charge_lag_days": "Charge lag (median)",
    "labor_cost": "Labour cost",
    "non_labor_cost": "Non-labour cost",
    "operating_cost": "Operating cost",
    "cost_per_visit": "Cost per visit",
    "labor_cost_per_visit": "Labour cost per visit",
    "support_staff_per_provider_fte": "Support staff per provider FTE",
    "overtime_share": "Overtime share",
    "operating_margin": "Operating margin",
    "operating_margin_pct": "Operating margin %",
    "staff_turnover_rate": "Staff turnover (annualised)",
    "ar_aging_0_30": "0–30 days",
    "ar_aging_31_60": "31–60 days",
    "ar_aging_61_90": "61–90 days",
    "ar_aging_91_120": "91–120 days",
    "ar_aging_over_120": "Over 120 days",
}

BUDGET_LINES = {"collections": "Collections", "it_software": "IT and software"}

# The denominator that is zero when a KPI is null, in a manager's words.
NULL_REASONS: dict[str, str] = {
    "no_show_rate": "no completed or no-show appointments in this period",
    "late_cancel_rate": "no completed, no-show or late-cancelled appointments in this period",
    "new_patient_lead_time_days": "no new-patient appointments in this period",
    "schedule_utilization": "no template slots in this period",
    "third_next_available_days": "fewer than three free slots in the next 180 days",
    "visits_per_provider_fte": "no active provider FTE on the period's last day",
    "work_rvus_per_provider_fte": "no active provider FTE on the period's last day",
    "new_patient_share": "no completed visits in this period",
    "days_in_ar": "no charges posted in the 90 days before the period's end",
    "ar_over_90_share": "the A/R balance is zero",
    "initial_denial_rate": "no claim had its first payer response in this period",
    "net_collection_rate": "no net charges for this service month",
    "cost_per_visit": "no completed visits in this period",
    "labor_cost_per_visit": "no completed visits in this period",
    "support_staff_per_provider_fte": "no active provider FTE on the period's last day",
    "overtime_share": "no hours worked in this period",
    "operating_margin_pct": "no payments in this period",
    "staff_turnover_rate": "no active staff in this period",
}
_QUANTILE_REASON = "no completed visits with a valid interval in this period"
DEFAULT_NULL_REASON = "its denominator is zero in this period"
MISSING_REASON = "no activity in this period (no published row)"

_UNIT_SUFFIX = {
    "days": " d",
    "minutes": " min",
    "wRVU": "",
    "visits": "",
    "visits per FTE": "",
    "wRVU per FTE": "",
    "FTE per provider FTE": "",
}


def currency() -> str:
    """The practice's currency symbol; money KPIs are published in it without one."""
    return os.environ.get("CLINICOPS_CURRENCY", "$")


def label(kpi: str) -> str:
    if kpi in LABELS:
        return LABELS[kpi]
    if kpi.startswith("payer_mix_"):
        return "Payer mix: " + kpi.removeprefix("payer_mix_").replace("_", " ")
    if kpi.startswith("budget_variance_"):
        line = kpi.removeprefix("budget_variance_")
        return LABELS.get(line) or BUDGET_LINES.get(line) or line.replace("_", " ").capitalize()
    return kpi.replace("_", " ").capitalize()


def null_reason(kpi: str) -> str:
    if kpi.endswith(("_p50", "_p90")):
        return _QUANTILE_REASON
    return NULL_REASONS.get(kpi, DEFAULT_NULL_REASON)


SUPPRESSED = "suppressed"
SUPPRESSED_REASON = (
    "suppressed: a count of 1 to 10, or a rate or median built on one, is not shown "
    "to the board (small-cell rule)"
)


def suppressed_kpis(rows: pd.DataFrame, period_start) -> set[str]:
    """The KPIs whose row for this period is a suppressed small cell: a board member's
    rows carry a `suppressed` flag (dashboards/access/small_cells.py), whose null value
    must read as suppressed, not as a zero denominator."""
    if "suppressed" not in rows:
        return set()
    at = rows[(rows["period_start"] == pd.Timestamp(period_start)) & rows["suppressed"]]
    return set(at["kpi"])


def is_null(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA


def fmt(value, unit: str | None) -> str:
    """A value in its unit, compact enough for a card; "–" when null."""
    if is_null(value):
        return NULL
    value = float(value)
    if unit in ("share", "share per year"):
        return f"{value:.1%}"
    if unit in ("money", "money per visit"):
        sign = "-" if value < 0 else ""
        amount = abs(value)
        if amount >= 1_000_000:
            return f"{sign}{currency()}{amount / 1_000_000:.2f}M"
        if amount >= 10_000:
            return f"{sign}{currency()}{amount / 1_000:.1f}k"
        return (
            f"{sign}{currency()}{amount:,.2f}"
            if amount < 100
            else f"{sign}{currency()}{amount:,.0f}"
        )
    suffix = _UNIT_SUFFIX.get(unit or "", "")
    if unit in ("visits",) or (abs(value) >= 100 and unit not in ("days", "minutes")):
        return f"{value:,.0f}{suffix}"
    return f"{value:,.1f}{suffix}"


def fmt_delta(delta, unit: str | None) -> str | None:
    """A change between two published values, in points for shares."""
    if is_null(delta):
        return None
    if unit in ("share", "share per year"):
        return f"{delta * 100:+.1f} pts"
    text = fmt(abs(delta), unit)
    return ("+" if delta >= 0 else "-") + text


def format_column(values: pd.Series, unit: str | None) -> pd.Series:
    return values.map(lambda v: fmt(v, unit))
