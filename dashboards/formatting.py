"""How a published number is written on screen: units, "–" for nulls and why.

A null KPI value means its denominator was zero in that period (KPI_SPEC.md); the page
shows "–" and says which denominator, rather than a misleading 0.
"""

from __future__ import annotations

import math
import os

import pandas as pd

NULL = "–"

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
    """The KPI's name from the published KPI catalog (marts.kpi_catalog)."""
    from dashboards import query  # the data layer; imported here so formatting stays light

    return query.catalog().label(kpi)


def line_label(line: str) -> str:
    """A budget line's name ("Collections", "Rent") from the KPI catalog."""
    from dashboards import query

    return query.catalog().line_label(line)


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
