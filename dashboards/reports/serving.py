"""Read-only access to a home's serving file for reports: the published KPI rows, their
targets and the data-quality marts. Nothing here holds a lock the pipeline needs: the
connection is read-only and closed as soon as the report has its rows."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb
import polars as pl


@dataclass(frozen=True)
class Target:
    kpi: str
    direction: str  # higher_is_better | lower_is_better | neutral
    low: float | None
    high: float | None
    unit: str
    source: str

    def in_band(self, value: float | None) -> bool | None:
        """None when there is no value or no band to judge it by."""
        if value is None or (self.low is None and self.high is None):
            return None
        return (self.low is None or value >= self.low) and (self.high is None or value <= self.high)


@dataclass(frozen=True)
class Serving:
    """Everything a report reads, loaded in one short read-only session."""

    kpis: pl.DataFrame  # marts.kpi_values rows of the grains asked for
    targets: dict[str, Target]
    as_of: date
    published_at: datetime
    deliveries: pl.DataFrame  # marts.dq_deliveries
    rejected_by_column: pl.DataFrame  # delivery, entity, column_name, rows (no row content)
    dq_counts: dict[str, int]  # orphans, wait-rule violations, unmatched CPT lines


def read_serving(path: Path, grains: tuple[str, ...] = ("month",)) -> Serving:
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist; run `clinicops run` first")
    with duckdb.connect(str(path), read_only=True) as con:
        kpis = con.sql(
            "select period_grain, period_start, scope, scope_id, kpi, value, numerator, "
            "denominator from marts.kpi_values where list_contains(?, period_grain)",
            params=[list(grains)],
        ).pl()
        targets = {
            row[0]: Target(*row)
            for row in con.sql(
                "select kpi, direction, target_low, target_high, unit, source "
                "from marts.kpi_targets"
            ).fetchall()
        }
        as_of, published_at = con.sql(
            "select as_of_date, published_at from marts.publish_info"
        ).fetchall()[0]
        deliveries = con.sql("select * from marts.dq_deliveries order by delivery_id").pl()
        # Reasons quote the rejected value, so reports show where rows were rejected and
        # how many, never the reason text (it could quote what a patient's row held).
        rejected = con.sql(
            "select delivery_id, entity, column_name, count(*) as rows "
            "from marts.dq_rejected_rows group by all order by delivery_id, entity, column_name"
        ).pl()
        dq_counts = {
            name: con.sql(f"select count(*) from marts.{table}").fetchall()[0][0]
            for name, table in (
                ("orphan rows", "dq_orphans"),
                ("wait-time rule violations", "dq_wait_violations"),
                ("charge lines with an unmatched CPT code", "dq_unmatched_cpt"),
            )
        }
    return Serving(kpis, targets, as_of, published_at, deliveries, rejected, dq_counts)


def published_as_of(path: Path) -> date:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.sql("select as_of_date from marts.publish_info").fetchall()[0][0]
