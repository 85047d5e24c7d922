"""Read-only access to a home's serving file for reports: the published KPI rows, their
targets and the data-quality marts. Nothing here holds a lock the pipeline needs: the
connection is read-only and closed as soon as the report has its rows.

A report reads as `access.current()` (the CLI acts as its admin user, the dashboard's deck
button as the signed-in user) and gets only what `dashboards/access/policy.py` allows:
a board member's deck is built from practice and location rows with small cells
suppressed, and the data-quality counts without file names or errors."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb
import polars as pl

from dashboards import access
from dashboards.access import policy, small_cells


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


_COMPLETE_FROM_DATES = (
    "(case period_grain when 'week' then period_start + interval 6 day "
    "when 'month' then period_start + interval 1 month - interval 1 day "
    "when 'quarter' then period_start + interval 3 month - interval 1 day "
    "else period_start + interval 1 year - interval 1 day end)::date "
    "<= (select as_of_date from marts.publish_info)"
)


@dataclass(frozen=True)
class Serving:
    """Everything a report reads, loaded in one short read-only session."""

    kpis: pl.DataFrame  # marts.kpi_values rows of the grains asked for, with `complete`
    targets: dict[str, Target]
    as_of: date
    published_at: datetime
    deliveries: pl.DataFrame  # marts.dq_deliveries
    rejected_by_column: pl.DataFrame  # delivery, entity, column_name, rows (no row content)
    dq_counts: dict[str, int]  # orphans, wait-rule violations, unmatched CPT lines


def read_serving(path: Path, grains: tuple[str, ...] = ("month",)) -> Serving:
    principal = access.current()
    policy.role_of(principal)
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist; run `clinicops run` first")
    with duckdb.connect(str(path), read_only=True) as con:
        # `complete` (the period ended on or before the as-of date) is published by dbt
        # when the serving file has it; an older file gets the same reading here.
        has_complete = bool(
            con.sql(
                "select count(*) from information_schema.columns where table_schema = 'marts' "
                "and table_name = 'kpi_values' and column_name = 'complete'"
            ).fetchall()[0][0]
        )
        complete = "complete" if has_complete else _COMPLETE_FROM_DATES
        kpis = con.sql(
            "select period_grain, period_start, scope, scope_id, kpi, value, numerator, "
            f"denominator, {complete} as complete from marts.kpi_values "
            "where list_contains(?, period_grain)",
            params=[list(grains)],
        ).pl()
        kpis = _scoped_kpis(principal, kpis, _directory(con))
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
    quality = policy.data_quality_in_reports(principal)
    if quality == "counts":
        deliveries = deliveries.select(policy.DQ_COUNT_COLUMNS)
    elif quality == "none":
        deliveries, rejected, dq_counts = deliveries.clear(), rejected.clear(), {}
    return Serving(kpis, targets, as_of, published_at, deliveries, rejected, dq_counts)


def _directory(con: duckdb.DuckDBPyConnection) -> policy.Directory:
    locations = con.sql("select location_id from marts.dim_locations").fetchall()
    homes = con.sql("select provider_id, home_location_id from marts.dim_providers").fetchall()
    return policy.Directory(frozenset(row[0] for row in locations), dict(homes))


def _scoped_kpis(
    principal: access.Principal, kpis: pl.DataFrame, directory: policy.Directory
) -> pl.DataFrame:
    """The rows the principal may read, small cells suppressed for the board. A report
    names no peer, so a physician gets their own rows and no peer distribution."""
    keep = pl.lit(False)
    for scope in ("practice", "location", "provider"):
        allowed = policy.kpi_ids(principal, scope, directory)
        ids = pl.lit(True) if allowed is None else pl.col("scope_id").is_in(sorted(allowed))
        keep = keep | ((pl.col("scope") == scope) & ids)
    kpis = kpis.filter(keep)
    if not policy.suppresses_small_cells(principal):
        return kpis
    key = [*small_cells.KEY, "kpi"]
    # The rule reads the published columns in their order (not `complete`).
    published = kpis.select(pl.exclude("complete"))
    flags = small_cells.flags(kpis.select(key).iter_rows(), published.iter_rows())
    kpis = kpis.with_columns(suppressed=pl.Series(flags, dtype=pl.Boolean))
    return kpis.with_columns(
        pl.when(pl.col("suppressed")).then(None).otherwise(pl.col(part)).alias(part)
        for part in small_cells.PARTS
    )


def published_as_of(path: Path) -> date:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.sql("select as_of_date from marts.publish_info").fetchall()[0][0]
