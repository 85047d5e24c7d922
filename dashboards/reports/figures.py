"""A KPI's published value for a report period, and whether it may be shown.

A month, a quarter and a (fiscal) year are each read from their own row of
`marts.kpi_values`: dbt computes every KPI from its definition over the whole period
(KPI_SPEC.md "Calendar and grain"), so a report never combines months into a quarter.

Small cells: a count of 1 to 10 (visits, appointments, claims, terminations), and any
rate or median built on one, is suppressed by the rule the board's dashboard reads share
(`dashboards.access.small_cells`), judged on the period's own rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import polars as pl

from dashboards.access.small_cells import SMALL_CELL, guards, is_small
from dashboards.reports.periods import Period

__all__ = ["SMALL_CELL", "MISSING", "Cell", "KpiTable"]

# A report period's length in months -> the grain of kpi_values that publishes it.
GRAINS = {1: "month", 3: "quarter", 12: "year"}


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
    """Rows indexed by (grain, scope, scope_id, kpi, period_start) for quick lookups."""

    def __init__(self, kpis: pl.DataFrame):
        key = ["period_grain", "scope", "scope_id", "kpi", "period_start"]
        self._rows = {
            tuple(r[:5]): tuple(r[5:])
            for r in kpis.select(*key, "value", "numerator", "denominator").iter_rows()
        }
        # Rows a board member read already suppressed (`dashboards.access`), small cells
        # and their complements: they cannot be shown.
        self._suppressed = (
            set(kpis.filter(pl.col("suppressed")).select(key).iter_rows())
            if "suppressed" in kpis.columns
            else set()
        )

    def row(self, kpi: str, month: date, scope: str = "practice", scope_id: str = "all"):
        return self._rows.get(("month", scope, scope_id, kpi, month))

    def scope_ids(self, scope: str, kpi: str, months: Iterable[date]) -> list[str]:
        wanted = set(months)
        return sorted(
            {
                k[2]
                for k in self._rows
                if k[0] == "month" and k[1] == scope and k[3] == kpi and k[4] in wanted
            }
        )

    def cell(
        self, kpi: str, period: Period, scope: str = "practice", scope_id: str = "all"
    ) -> Cell:
        if period.months not in GRAINS:
            return self._year_to_date(kpi, period, scope, scope_id)
        key = (GRAINS[period.months], scope, scope_id, kpi, period.start)
        if key in self._suppressed:
            return Cell(None, suppressed=True)
        cell = self._published(key)
        if cell.present and self._small(key, cell):
            return Cell(cell.value, cell.numerator, cell.denominator, suppressed=True)
        return cell

    def _year_to_date(self, kpi: str, period: Period, scope: str, scope_id: str) -> Cell:
        """A budget line from the year's start to a month that is not the year's last
        complete one: KPI_SPEC.md defines a longer period's budget_variance as the sum of
        its complete months, so the month rows are summed. Nothing else has such a period."""
        if not kpi.startswith("budget_variance_"):
            return MISSING
        rows = [self.row(kpi, m, scope, scope_id) for m in period.month_starts]
        rows = [r for r in rows if r is not None]
        if not rows:
            return MISSING
        actual, budget = sum(r[1] or 0.0 for r in rows), sum(r[2] or 0.0 for r in rows)
        return Cell(actual - budget, actual, budget)

    def _published(self, key: tuple) -> Cell:
        row = self._rows.get(key) if key[0] in GRAINS.values() else None
        return Cell(*row) if row is not None else MISSING

    def _small(self, key: tuple, cell: Cell) -> bool:
        grain, scope, scope_id, kpi, start = key
        return any(
            is_small(
                getattr(
                    cell
                    if guard == kpi
                    else self._published((grain, scope, scope_id, guard, start)),
                    part,
                )
            )
            for guard, part in guards(kpi)
        )
