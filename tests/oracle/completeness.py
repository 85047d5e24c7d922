"""`complete` of KPI_SPEC.md "Complete rows": each source's coverage end, and which
sources each KPI reads."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl

from tests.oracle.calendar_scopes import period_end

ACCESS = (
    "completed_visits",
    "no_show_rate",
    "late_cancel_rate",
    "new_patient_lead_time_days",
    "lobby_wait_min_p50",
    "lobby_wait_min_p90",
    "wait_for_provider_min_p50",
    "wait_for_provider_min_p90",
    "cycle_time_min_p50",
    "cycle_time_min_p90",
    "schedule_utilization",
    "third_next_available_days",
    "new_patient_share",
    "visits_per_provider_fte",
)
BILLING = (
    "gross_charges",
    "work_rvus",
    "charge_lag_days",
    "payments",
    "ar_balance",
    "ar_credit_balance",
    "days_in_ar",
    "ar_over_90_share",
    "initial_denial_rate",
    "net_collection_rate",
    "work_rvus_per_provider_fte",
)
READS: dict[str, set[str]] = {
    **{kpi: {"scheduling"} for kpi in ACCESS},
    **{kpi: {"billing"} for kpi in BILLING},
    "labor_cost": {"payroll"},
    "overtime_share": {"payroll"},
    "non_labor_cost": {"ledger"},
    "operating_cost": {"payroll", "ledger"},
    "cost_per_visit": {"payroll", "ledger", "scheduling"},
    "labor_cost_per_visit": {"payroll", "scheduling"},
    "operating_margin": {"billing", "payroll", "ledger"},
    "operating_margin_pct": {"billing", "payroll", "ledger"},
    "support_staff_per_provider_fte": set(),
    "staff_turnover_rate": set(),
}
BUDGET_LINES = {
    "completed_visits": {"scheduling"},
    "gross_charges": {"billing"},
    "collections": {"billing"},
    "labor_cost": {"payroll"},
}
SOURCES = ("scheduling", "billing", "payroll", "ledger")


def reads(kpi: str) -> set[str]:
    """The sources a KPI name reads; an unknown name is an error, not a guess."""
    if kpi.startswith(("payer_mix_", "ar_aging_")):
        return {"billing"}
    if kpi.startswith("budget_variance_"):
        return BUDGET_LINES.get(kpi.removeprefix("budget_variance_"), {"ledger"})
    return READS[kpi]


def _extended(end: date | None, slot_days: list[date], as_of: date) -> date | None:
    """Over the following days without a template slot: to the day before the next slot
    day, else to the as-of date; no slots at all, no extension."""
    if end is None or not slot_days:
        return end
    later = [d for d in slot_days if d > end]
    if later:
        return min(later) - timedelta(days=1)
    return max(end, as_of)


def coverage(lake, as_of: date) -> dict[str, date | None]:
    slot_days = lake.slots["slot_start"].dt.date().unique().to_list()
    seen = lake.appointments.filter(pl.col("status").is_in(["completed", "no_show"]))
    posted = pl.concat(
        [lake.charges.select("posted_date"), lake.transactions.select("posted_date")]
    )["posted_date"].max()
    gl_month = lake.gl["month"].max()
    ledger = None
    if gl_month is not None:
        following = date(gl_month.year + gl_month.month // 12, gl_month.month % 12 + 1, 1)
        ledger = following - timedelta(days=1)
    return {
        "scheduling": _extended(seen["scheduled_start"].dt.date().max(), slot_days, as_of),
        "billing": _extended(posted, slot_days, as_of),
        "payroll": lake.timesheets["pay_period_end"].max(),
        "ledger": ledger,
    }


def with_complete(long: pl.DataFrame, lake, as_of: date) -> pl.DataFrame:
    """`complete` for every row: its judged day (measured_through where a budget row has
    one, else the period's shortened last day) on or before every read source's end."""
    ends = coverage(lake, as_of)
    kpis = long["kpi"].unique().to_list()
    judged = pl.coalesce(
        "measured_through", period_end(pl.col("period_start"), pl.col("period_grain"), as_of)
    )
    complete = pl.lit(True)
    for source in SOURCES:
        readers = [k for k in kpis if source in reads(k)]
        end = ends[source]
        if end is None or not readers:
            continue
        complete = complete & (~pl.col("kpi").is_in(readers) | (judged <= pl.lit(end)))
    return long.with_columns(complete=complete).drop("measured_through")
