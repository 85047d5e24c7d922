"""Small-cell suppression: the one rule the board's reads and the board deck share.

A count of 1 to 10 (visits, appointments, claims, staff leaving), and any rate or median
built on one, is not published to the board, as health-data publication rules require: a
cell that small can point at a patient or an employee. The deck judges the cells it shows
(a quarter after combining its months); the query layer judges each published row before
a board member's page or download gets it. Both ask `guards` which counts judge a KPI.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

SMALL_CELL = 11  # counts below this (and above zero) are not published

# Which parts of a KPI's row are counts of events or people.
_COUNT_PARTS: dict[str, tuple[str, ...]] = {
    "completed_visits": ("value",),
    "no_show_rate": ("numerator", "denominator"),
    "late_cancel_rate": ("numerator", "denominator"),
    "new_patient_share": ("numerator", "denominator"),
    "initial_denial_rate": ("numerator", "denominator"),
    "staff_turnover_rate": ("numerator",),
    "visits_per_provider_fte": ("numerator",),
    "cost_per_visit": ("denominator",),
    "labor_cost_per_visit": ("denominator",),
    "budget_variance_completed_visits": ("numerator", "denominator"),
}
# Medians carry no count of their own: they are judged by the count they are taken over.
# The charge lag is a median over charge lines, which are billed for visits and have no
# published count: it is judged by the period's and scope's completed visits.
_MEDIAN_OVER = {
    "new_patient_lead_time_days": ("new_patient_share", "numerator"),
    "charge_lag_days": ("completed_visits", "value"),
}
_VISIT_MEDIANS = ("lobby_wait_min", "wait_for_provider_min", "cycle_time_min")

KEY = ["period_grain", "period_start", "scope", "scope_id"]
PARTS = ("value", "numerator", "denominator")


def guards(kpi: str) -> tuple[tuple[str, str], ...]:
    """The counts a KPI's cell is judged by, as (kpi, part) pairs of the same period and
    scope: its own count parts, or for a median the count of events it is taken over."""
    if kpi.removesuffix("_p50").removesuffix("_p90") in _VISIT_MEDIANS:
        return (("completed_visits", "value"),)
    if kpi in _MEDIAN_OVER:
        return (_MEDIAN_OVER[kpi],)
    return tuple((kpi, part) for part in _COUNT_PARTS.get(kpi, ()))


def guard_kpis(kpis) -> set[str]:
    """Every KPI whose row must be read to judge these KPIs' rows."""
    return {guard for kpi in kpis for guard, _ in guards(kpi)}


def is_small(count: float | None) -> bool:
    return count is not None and not pd.isna(count) and 0 < count < SMALL_CELL


def flags(keys: Iterable[tuple], guard_rows: Iterable[tuple]) -> list[bool]:
    """Whether each row is a small cell, for rows given by their key (period_grain,
    period_start, scope, scope_id, kpi) and the full rows (key, value, numerator,
    denominator) of the guard KPIs for the same periods and scopes; a guard without a row
    means no activity, not a small count."""
    counts = {tuple(row[:5]): dict(zip(PARTS, row[5:], strict=True)) for row in guard_rows}
    return [
        any(is_small(counts.get((*key[:4], guard), {}).get(part)) for guard, part in guards(key[4]))
        for key in keys
    ]


def suppress(rows: pd.DataFrame, guard_rows: pd.DataFrame) -> pd.DataFrame:
    """Rows of `marts.kpi_values` with small cells nulled and flagged `suppressed`
    (`guard_rows` as for `flags`; overlapping `rows` is fine)."""
    out = rows.assign(
        suppressed=flags(
            rows[[*KEY, "kpi"]].itertuples(index=False),
            guard_rows[[*KEY, "kpi", *PARTS]].itertuples(index=False),
        )
    )
    for part in PARTS:
        if part in out:
            out[part] = out[part].astype("float64").mask(out["suppressed"])
    return out
