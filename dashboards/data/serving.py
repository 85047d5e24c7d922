"""Read-only access to a home's serving file for reports: the published KPI rows, their
one status (marts.kpi_status), the KPI catalog, display names, the run-rate forecast and
the data-quality marts. Nothing here holds a lock the pipeline needs: the
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
from dashboards.data.catalog import Catalog, Names


@dataclass(frozen=True)
class Status:
    """A row of marts.kpi_status: the band in force and the one status of a KPI row."""

    low: float | None
    high: float | None
    direction: str  # higher_is_better | lower_is_better | neutral
    source: str  # configuration | budget | specialty | default | none
    status: str  # partial | no_target | in_band | out_of_band
    gap: float | None  # how far outside the band, relative to its edge (0 inside)


NO_STATUS = Status(None, None, "neutral", "none", "no_target", None)
STATUS_GRAINS = ("week", "month", "quarter", "year")


@dataclass(frozen=True)
class StatusTable:
    """Statuses by (period_grain, period_start, scope, scope_id, kpi)."""

    rows: dict[tuple, Status]

    def get(
        self, kpi: str, grain: str, start: date, scope: str = "practice", scope_id: str = "all"
    ) -> Status:
        return self.rows.get((grain, start, scope, scope_id, kpi), NO_STATUS)


@dataclass(frozen=True)
class Serving:
    """Everything a report reads, loaded in one short read-only session."""

    kpis: pl.DataFrame  # marts.kpi_values rows of the grains asked for
    statuses: StatusTable  # marts.kpi_status rows of the rows the reader may read
    catalog: Catalog  # labels, units, directions (marts.kpi_catalog)
    names: Names  # locations, payers and the providers the reader may see
    forecast: pl.DataFrame  # marts.kpi_forecast (practice and location scope)
    forecast_months: pl.DataFrame  # marts.kpi_forecast_months
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
        kpis = con.sql(
            "select period_grain, period_start, scope, scope_id, kpi, value, numerator, "
            "denominator, complete from marts.kpi_values "
            "where list_contains(?, period_grain)",
            params=[list(grains)],
        ).pl()
        directory = _directory(con)
        hidden = None
        if policy.suppresses_small_cells(principal):
            hidden = small_cells.withheld(
                con.sql(
                    "select period_grain, period_start, scope, scope_id, kpi, value, "
                    "numerator, denominator from marts.kpi_values "
                    "where list_contains(?, scope) and list_contains(?, kpi)",
                    params=[list(small_cells.BOARD_SCOPES), small_cells.atom_kpis()],
                ).df()
            )
        kpis = _scoped_kpis(principal, kpis, directory, hidden)
        statuses = _statuses(con, principal, directory, grains, hidden)
        catalog = Catalog.from_rows(
            con.sql("select kpi, label, unit, direction, description from marts.kpi_catalog")
            .pl()
            .to_dicts()
        )
        names = _names(con, principal, directory)
        forecast, forecast_months = (
            (
                _readable(principal, con.sql("select * from marts.kpi_forecast").pl(), directory),
                _readable(
                    principal,
                    con.sql("select * from marts.kpi_forecast_months order by month_start").pl(),
                    directory,
                ),
            )
            if policy.may_see_costs(principal)
            else (pl.DataFrame(), pl.DataFrame())
        )
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
    return Serving(
        kpis,
        statuses,
        catalog,
        names,
        forecast,
        forecast_months,
        as_of,
        published_at,
        deliveries,
        rejected,
        dq_counts,
    )


def _statuses(
    con: duckdb.DuckDBPyConnection,
    principal: access.Principal,
    directory: policy.Directory,
    grains: tuple[str, ...],
    hidden: frozenset | None = None,
) -> StatusTable:
    """The status of each row the reader may read, of the grains asked for plus quarters
    and years (a report of a quarter judges the quarter's own row). A withheld row has no
    status: it would tell which side of its band the hidden value lies."""
    wanted = sorted(set(grains) | {"quarter", "year"})
    rows = con.sql(
        "select period_grain, period_start, scope, scope_id, kpi, target_low, target_high, "
        "direction, target_source, status, band_gap, value, numerator, denominator "
        "from marts.kpi_status join marts.kpi_values "
        "using (period_grain, period_start, scope, scope_id, kpi) "
        "where list_contains(?, period_grain)",
        params=[wanted],
    ).pl()
    rows = _readable(principal, rows, directory)
    if hidden is not None:
        key = [*small_cells.KEY, "kpi", *small_cells.PARTS]
        flags = small_cells.withheld_flags(rows.select(key).iter_rows(), hidden)
        rows = rows.filter(~pl.Series(flags, dtype=pl.Boolean))
    return StatusTable({tuple(r[:5]): Status(*r[5:11]) for r in rows.iter_rows()})


def _names(
    con: duckdb.DuckDBPyConnection, principal: access.Principal, directory: policy.Directory
) -> Names:
    providers = con.sql("select provider_id, display_name from marts.dim_providers").pl()
    visible = policy.kpi_ids(principal, "provider", directory)
    return Names(
        locations=dict(
            con.sql("select location_id, location_name from marts.dim_locations").fetchall()
        ),
        providers={
            pid: name for pid, name in providers.iter_rows() if visible is None or pid in visible
        },
        payers=dict(con.sql("select payer_id, payer_name from marts.dim_payers").fetchall()),
    )


def _directory(con: duckdb.DuckDBPyConnection) -> policy.Directory:
    locations = con.sql("select location_id from marts.dim_locations").fetchall()
    homes = con.sql("select provider_id, home_location_id from marts.dim_providers").fetchall()
    return policy.Directory(frozenset(row[0] for row in locations), dict(homes))


def _readable(
    principal: access.Principal, rows: pl.DataFrame, directory: policy.Directory
) -> pl.DataFrame:
    """Rows with a scope and scope_id that the principal may read (policy.kpi_ids)."""
    if rows.is_empty():
        return rows
    keep = pl.lit(False)
    for scope in ("practice", "location", "provider"):
        allowed = policy.kpi_ids(principal, scope, directory)
        ids = pl.lit(True) if allowed is None else pl.col("scope_id").is_in(sorted(allowed))
        keep = keep | ((pl.col("scope") == scope) & ids)
    return rows.filter(keep)


def _scoped_kpis(
    principal: access.Principal,
    kpis: pl.DataFrame,
    directory: policy.Directory,
    hidden: frozenset | None = None,
) -> pl.DataFrame:
    """The rows the principal may read, small cells and their complements (`hidden`,
    small_cells.withheld) suppressed for the board. A report names no peer, so a
    physician gets their own rows and no peer distribution."""
    kpis = _readable(principal, kpis, directory)
    if not policy.suppresses_small_cells(principal):
        return kpis
    key = [*small_cells.KEY, "kpi", *small_cells.PARTS]
    flags = small_cells.withheld_flags(kpis.select(key).iter_rows(), hidden or frozenset())
    kpis = kpis.with_columns(suppressed=pl.Series(flags, dtype=pl.Boolean))
    return kpis.with_columns(
        pl.when(pl.col("suppressed")).then(None).otherwise(pl.col(part)).alias(part)
        for part in small_cells.PARTS
    )


def published_as_of(path: Path) -> date:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.sql("select as_of_date from marts.publish_info").fetchall()[0][0]
