"""How a published number is written on screen: units, "–" for nulls and why.

A null KPI value means its denominator was zero in that period (KPI_SPEC.md); the page
shows "–" and says which denominator, rather than a misleading 0.
"""

from __future__ import annotations

import math

import pandas as pd

from dashboards.data.catalog import currency

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


def label(kpi: str) -> str:
    """The KPI's name from the published KPI catalog (marts.kpi_catalog). Not for a
    widget's `format_func`: that is also called between script runs, where no reader is
    signed in to read the catalog; pass a catalog read in the run (`query.catalog().label`)."""
    from dashboards.data import query  # the data layer; imported here so formatting stays light

    return query.catalog().label(kpi)


def line_label(line: str) -> str:
    """A budget line's name ("Collections", "Rent") from the KPI catalog."""
    from dashboards.data import query

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
        # Whole amounts, cents only per visit: "$0.00" beside "$145" read as two formats.
        decimals = 2 if unit == "money per visit" else 0
        return f"{sign}{currency()}{amount:,.{decimals}f}"
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


# -- tables: one header and one number format per column ---------------------------------

# Raw column names of the marts and query results, as a practice manager reads them.
HEADERS: dict[str, str] = {
    "period_start": "Period",
    "scope_id": "Who",
    "kpi": "KPI",
    "value": "Value",
    "numerator": "Numerator",
    "denominator": "Denominator",
    "payer_id": "Payer ID",
    "payer_name": "Payer",
    "financial_class": "Financial class",
    "claims_responded": "Claims answered",
    "claims_denied": "Claims denied",
    "open_claims": "Open claims",
    "ar_balance": "A/R balance",
    "cpt_code": "CPT code",
    "charge_lines": "Charge lines",
    "gross_charges": "Gross charges",
    "work_rvus": "Work RVUs",
    "units": "Units",
    "modifier": "Modifier",
    "line": "Budget line",
    "actual": "Actual",
    "budget": "Budget",
    "variance": "Variance",
    "delivery_id": "Delivery",
    "source": "Source",
    "entity": "File type",
    "file_name": "File",
    "source_file": "File",
    "source_line": "Line",
    "received_at": "Received (UTC)",
    "last_received_at": "Last file received (UTC)",
    "latest_data_date": "Newest data",
    "last_delivery_id": "Last delivery",
    "first_delivery_id": "First delivery",
    "deliveries": "Deliveries",
    "failed_deliveries": "Failed deliveries",
    "mode": "Mode",
    "status": "Status",
    "rows_received": "Rows received",
    "rows_loaded": "Rows loaded",
    "rows_rejected": "Rows rejected",
    "rows_duplicate_key": "Repeated keys",
    "rows_balance": "Balances",
    "error": "Error",
    "column_name": "Column",
    "reason": "Reason",
    "rejections": "Rejected rows",
    "files": "Files",
    "record_key": "Record",
    "reference_column": "Refers by",
    "referenced_entity": "Refers to",
    "missing_value": "Missing reference",
    "appointment_id": "Appointment",
    "provider_id": "Provider",
    "rendering_provider_id": "Provider",
    "location_id": "Location",
    "scheduled_date": "Date",
    "service_date": "Service date",
    "interval_kind": "Interval",
    "started_at": "Started",
    "ended_at": "Ended",
    "minutes": "Minutes",
    "violation_reason": "Why it was left out",
    "intervals": "Intervals",
    "charge_id": "Charge",
    "claim_id": "Claim",
    "carc_code": "CARC code",
    "denials": "Denials",
    "claims": "Claims",
    "visits": "Visits",
    "band": "Target",
}

_MONEY_COLUMNS = {
    "ar_balance", "gross_charges", "actual", "budget", "variance", "payments",
    "charge_amount", "labor_cost", "non_labor_cost", "operating_cost", "operating_margin",
}  # fmt: skip


def _is_kpi(column: str) -> bool:
    """A published KPI name (the catalog is read for the signed-in reader only)."""
    from dashboards.access.principal import AccessDenied
    from dashboards.data import query

    try:
        return query.catalog().knows(column)
    except (AccessDenied, query.ServingMissing):  # an export built outside a page
        return False


def header(column: str) -> str:
    """A column's title: the known wording, a KPI's label, else the words of its name."""
    if column in HEADERS:
        return HEADERS[column]
    if column.startswith("payer_mix_") or _is_kpi(column):
        return label(column)
    text = column.replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def column_unit(column: str) -> str | None:
    """The unit a raw column's numbers are in, from its name (None: a plain count)."""
    if column in _MONEY_COLUMNS:
        return "money"
    if column.endswith(("_rate", "_share")):
        return "share"
    if column.endswith("_days"):
        return "days"
    if column.endswith(("_min", "minutes")) or "_min_" in column:
        return "minutes"
    return None


def number_format(unit: str | None, integer: bool = False) -> str:
    """Streamlit's column format for a unit (its dataframe draws the numbers itself,
    so sorting stays numeric)."""
    if unit in ("share", "share per year"):
        return "percent"
    if unit in ("money", "money per visit"):
        return {"$": "dollar", "€": "euro", "¥": "yen"}.get(currency(), "localized")
    if unit == "days":
        return "%.1f d"
    if unit == "minutes":
        return "%.1f min"
    return "localized" if integer else "%.1f"


def excel_format(unit: str | None, integer: bool = False) -> str:
    """The same number format for a spreadsheet cell."""
    if unit in ("share", "share per year"):
        return "0.0%"
    if unit in ("money", "money per visit"):
        return f'"{currency()}"#,##0.00'
    if unit == "days":
        return '0.0" d"'
    if unit == "minutes":
        return '0.0" min"'
    return "#,##0" if integer else "#,##0.0"
