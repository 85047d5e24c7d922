"""Reader processes for test_readers.py, and the delivery both readers tests rebuild with.

Two kinds of reader ask until told to stop. A file reader opens the serving file
read-only, reads `kpi_values` and `publish_info` in one query and closes: its answer is
the state's `published_at` and a checksum of every kpi_values row, proving the file was
one complete state. A query-layer reader reads as a page does, through
dashboards/data/query.py with its cached connection and results: the header's publish stamp
first, then the page's KPI rows in a separate call, so a publish landing between the
two would show as a stamp paired with the other state's rows.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import polars as pl

from dashboards.access import Principal, Role, acting_as
from dashboards.data import query
from pipelines.core.home import Home
from tests.landing.conftest import csv_text

PAGE_KPIS = ["completed_visits", "gross_charges", "no_show_rate", "payments"]
# Order-independent: the sum of the hashes of every row.
CHECKSUM_SQL = (
    "select (select published_at from marts.publish_info)::varchar, "
    "count(*), sum(hash(k)) from marts.kpi_values as k"
)


def checksum(serving: Path) -> tuple[str, int, int]:
    with duckdb.connect(str(serving), read_only=True) as con:
        ((published_at, rows, total),) = con.sql(CHECKSUM_SQL).fetchall()
    return published_at, rows, int(total)


def page_view() -> tuple[str, int, int]:
    """What the scorecard reads through the query layer: the stamp, then 13 weeks of KPIs."""
    published_at = str(query.publish_info()["published_at"])
    week = query.last_complete_week()
    rows = query.kpi_series(
        PAGE_KPIS, "week", "practice", ["all"], week - timedelta(weeks=12), week
    )
    return published_at, len(rows), int(pd.util.hash_pandas_object(rows, index=False).sum())


def read_until(serving: str, stop: str) -> list[dict]:
    return _ask_until(lambda: checksum(Path(serving)), stop)


def read_query_layer_until(home: str, stop: str) -> list[dict]:
    os.environ[query.HOME_ENV] = home
    with acting_as(Principal("reliability-reader", Role.ADMIN)):
        return _ask_until(page_view, stop)


def _ask_until(ask: Callable[[], tuple], stop: str) -> list[dict]:
    answers: list[dict] = []
    while not Path(stop).exists():
        time.sleep(0.02)  # a dashboard user, not a benchmark loop
        started = time.perf_counter()
        try:
            state = ask()
            answers.append(
                {
                    "at": time.time(),
                    "seconds": time.perf_counter() - started,
                    "state": state,
                    "error": None,
                }
            )
        except Exception as exc:  # every failure is an answer the test must see
            answers.append({"at": time.time(), "seconds": 0.0, "state": None, "error": repr(exc)})
    return answers


def scorecard_week(serving: Path) -> date:
    """The week the scorecard opens on: the newest complete one (dashboards/data/query.py)."""
    with duckdb.connect(str(serving), read_only=True) as con:
        ((as_of,),) = con.sql("select as_of_date from marts.publish_info").fetchall()
    monday = as_of - timedelta(days=as_of.weekday())
    return monday if as_of.weekday() == 6 else monday - timedelta(days=7)


def late_charges(home: Home, folder: Path) -> None:
    """A new billing delivery that changes KPIs: charges of the scorecard's week billed again.

    That week's gross charges is the headline figure the browser readers check, so the
    delivery must move it.
    """
    week = scorecard_week(home.serving)
    charges = pl.read_parquet(home.raw / "charges" / "*" / "*.parquet")
    some = charges.filter(
        (pl.col("_delivery_id") != "000000")
        & pl.col("service_date").is_between(week, week + timedelta(days=6))
    ).head(20)
    assert some.height, f"no charges in the week of {week} to bill again"
    rows = [
        {
            "charge_id": f"LATE-{i}",
            "claim_id": r["claim_id"],
            "encounter_id": r["encounter_id"] or "",
            "patient_id": f"P-LATE-{i}",
            "rendering_provider_id": r["rendering_provider_id"],
            "location_id": r["location_id"],
            "payer_id": r["payer_id"],
            "service_date": r["service_date"].isoformat(),
            "posted_date": r["posted_date"].isoformat(),
            "cpt_code": r["cpt_code"],
            "modifier": r["modifier"] or "",
            "units": str(r["units"]),
            "charge_amount": f"{r['charge_amount']:.2f}",
        }
        for i, r in enumerate(some.iter_rows(named=True))
    ]
    (folder / "billing").mkdir(parents=True)
    (folder / "billing" / "charges_late.csv").write_text(csv_text(rows), encoding="utf-8")
