"""An independent implementation of KPI_SPEC.md in plain Polars: the test oracle that
`marts.kpi_values` is compared with, row by row.

It reads only the landed lake of a home and the CMS seed, never dbt's SQL, so a
disagreement means one side misreads the spec.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl

from tests.oracle.access import access_kpis
from tests.oracle.billing import billing_kpis
from tests.oracle.calendar_scopes import KEYS, OUTPUT, fiscal_year
from tests.oracle.completeness import with_complete
from tests.oracle.cost import budget_kpis, cost_kpis, per_fte_kpis, staffing_kpis
from tests.oracle.lake_frames import Lake
from tests.oracle.third_next_available import third_next_available_kpis


def as_of_date(lake: Lake) -> date:
    """The billing system's last posting day, else the last completed/no_show visit day."""
    posted = pl.concat(
        [lake.charges.select("posted_date"), lake.transactions.select("posted_date")]
    )["posted_date"].max()
    if posted is not None:
        return posted
    seen = lake.appointments.filter(pl.col("status").is_in(["completed", "no_show"]))
    return seen["scheduled_start"].dt.date().max()


def data_start(lake: Lake) -> date:
    """The first day with any appointment (local date) or charge (service or posted)."""
    return min(
        d
        for d in (
            lake.appointments["scheduled_start"].dt.date().min(),
            lake.charges["service_date"].min(),
            lake.charges["posted_date"].min(),
        )
        if d is not None
    )


def _part(long: pl.DataFrame, kpi: str, name: str) -> pl.DataFrame:
    return long.filter(pl.col("kpi") == kpi).select(*KEYS, pl.col("value").alias(name))


def kpi_values(home_root: Path, as_of: date | None = None, fiscal_start: int = 1) -> pl.DataFrame:
    """The oracle's kpi_values for one home, in the published long shape plus `complete`;
    quarters and years of the fiscal year starting in month `fiscal_start`."""
    lake = Lake(home_root)
    as_of = as_of or as_of_date(lake)
    with fiscal_year(fiscal_start):
        frames = access_kpis(lake, as_of) + third_next_available_kpis(lake, as_of)
        frames += billing_kpis(lake, as_of)
        long = pl.concat([f.cast(OUTPUT) for f in frames])
        visits = _part(long, "completed_visits", "completed")
        paid = _part(long, "payments", "payments")
        frames += cost_kpis(lake, as_of, visits, paid)
        frames += staffing_kpis(lake, as_of, data_start(lake))
        frames += per_fte_kpis(lake, as_of, visits, _part(long, "work_rvus", "rvus"))
        long = pl.concat([f.cast(OUTPUT) for f in frames])
        # Budget actuals are the KPIs' own values, as KPI_SPEC.md names them per line.
        parts = {
            "completed_visits": (visits, "completed"),
            "gross_charges": (_part(long, "gross_charges", "v"), "v"),
            "collections": (paid, "payments"),
            "labor_cost": (_part(long, "labor_cost", "v"), "v"),
        }
        budget = budget_kpis(lake, as_of, parts)
        long = pl.concat(
            [long, *(f.cast({**OUTPUT, "measured_through": pl.Date}) for f in budget)],
            how="diagonal",
        )
        return with_complete(long, lake, as_of)
