"""A KPI's published value for a report period, and whether it may be shown.

A month is read as published. A quarter combines the month-grain rows of its three
months the only ways KPI_SPEC.md allows: flows are summed, "at D" values are those of
the quarter's last month, and rates are recomputed from the summed numerators and
denominators (a per-FTE rate keeps the FTE of the quarter's last day). A median cannot
be rebuilt from monthly medians, so a quarter shows none.

Small cells: a count of 1 to 10 (visits, appointments, claims, terminations), and any
rate or median built on one, is suppressed by the rule the board's dashboard reads share
(`dashboards.access.small_cells`), judged here on the combined cell.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import polars as pl

from dashboards.access.small_cells import SMALL_CELL, guards, is_small
from dashboards.reports.periods import Period

__all__ = ["SMALL_CELL", "MISSING", "Cell", "KpiTable", "is_median"]

_AT_PERIOD_END = {"ar_balance", "days_in_ar", "ar_over_90_share", "support_staff_per_provider_fte"}
_PER_FTE = {"visits_per_provider_fte", "work_rvus_per_provider_fte"}
_LONE_MEDIANS = {"new_patient_lead_time_days", "charge_lag_days"}


def is_median(kpi: str) -> bool:
    return kpi.endswith(("_p50", "_p90")) or kpi in _LONE_MEDIANS


def _at_period_end(kpi: str) -> bool:
    return kpi in _AT_PERIOD_END or kpi.startswith("ar_aging_")


@dataclass(frozen=True)
class Cell:
    value: float | None
    numerator: float | None = None
    denominator: float | None = None
    suppressed: bool = False
    present: bool = True  # False: no row (no activity), shown like a null

    @property
    def shown(self) -> float | None:
        return None if self.suppressed else self.value


MISSING = Cell(None, present=False)


class KpiTable:
    """Month-grain rows indexed by (scope, scope_id, kpi, month) for quick lookups."""

    def __init__(self, kpis: pl.DataFrame):
        months = kpis.filter(pl.col("period_grain") == "month")
        self._rows = {
            (r[0], r[1], r[2], r[3]): (r[4], r[5], r[6])
            for r in months.select(
                "scope", "scope_id", "kpi", "period_start", "value", "numerator", "denominator"
            ).iter_rows()
        }
        # Rows a board member read already suppressed (`dashboards.access`): their months
        # cannot be shown, nor rebuilt into a quarter.
        self._suppressed = (
            set(
                months.filter(pl.col("suppressed"))
                .select("scope", "scope_id", "kpi", "period_start")
                .iter_rows()
            )
            if "suppressed" in months.columns
            else set()
        )

    def row(self, kpi: str, month: date, scope: str = "practice", scope_id: str = "all"):
        return self._rows.get((scope, scope_id, kpi, month))

    def scope_ids(self, scope: str, kpi: str, months: Iterable[date]) -> list[str]:
        wanted = set(months)
        return sorted(
            {k[1] for k in self._rows if k[0] == scope and k[2] == kpi and k[3] in wanted}
        )

    def cell(
        self, kpi: str, period: Period, scope: str = "practice", scope_id: str = "all"
    ) -> Cell:
        if any((scope, scope_id, kpi, m) in self._suppressed for m in period.month_starts):
            return Cell(None, suppressed=True)
        combined = self._combine(kpi, period, scope, scope_id)
        if combined.present and self._small(kpi, combined, period, scope, scope_id):
            return Cell(combined.value, combined.numerator, combined.denominator, suppressed=True)
        return combined

    def _combine(self, kpi: str, period: Period, scope: str, scope_id: str) -> Cell:
        rows = {m: self.row(kpi, m, scope, scope_id) for m in period.month_starts}
        present = {m: r for m, r in rows.items() if r is not None}
        if not present:
            return MISSING
        if period.months == 1:
            return Cell(*present[period.start])
        if is_median(kpi):
            return Cell(None)
        if _at_period_end(kpi):
            last = rows[period.last_month]
            return Cell(*last) if last else MISSING
        values = [r[0] for r in present.values()]
        nums = [r[1] for r in present.values() if r[1] is not None]
        dens = [r[2] for r in present.values() if r[2] is not None]
        if kpi.startswith("budget_variance_"):
            return Cell(sum(v for v in values if v is not None), sum(nums), sum(dens))
        if not dens:  # a flow: value = numerator
            return Cell(sum(v for v in values if v is not None), sum(nums) if nums else None)
        numerator = sum(nums)
        if kpi in _PER_FTE:
            last = rows[period.last_month]
            denominator = last[2] if last else None
        else:
            denominator = sum(dens)
        value = numerator / denominator if denominator else None
        return Cell(value, numerator, denominator)

    def _small(self, kpi: str, cell: Cell, period: Period, scope: str, scope_id: str) -> bool:
        return any(
            is_small(
                getattr(
                    cell if guard == kpi else self._combine(guard, period, scope, scope_id), part
                )
            )
            for guard, part in guards(kpi)
        )
