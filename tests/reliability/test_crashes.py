"""SIGKILL at named points of landing, the dbt build and publish, then run again.

One home is killed again and again, each time at a later point, as a machine that keeps
rebooting would be. After every kill nothing may be corrupt; after the runs that follow,
the ledger must match the lake and the published `kpi_values` must equal those of a run
that was never interrupted (`baseline_home`).
"""

from __future__ import annotations

import signal
from pathlib import Path

import duckdb
import polars as pl
import pyarrow.parquet as pq
import pytest

from pipelines.core.home import SCHEMA_DELIVERY_ID, Home
from pipelines.core.warehouse_lock import PARENT_ENV
from pipelines.land import ledger
from tests.reliability.conftest import (
    Run,
    assert_same_kpis,
    clinicops,
    hold_lock,
    kpi_values,
    run_ok,
    sha256,
)

pytestmark = pytest.mark.e2e

# (command, fault point, what the kill interrupts). Landing has one batch per file here,
# so `land.batch@3` dies inside the third file, before any of it is committed.
LANDING_KILLS = [
    ("land.batch@3", "inside the third file, parts written, nothing committed"),
    ("land.before_ledger@2", "parts moved into the lake, ledger entry not yet written"),
    ("land.between_files@3", "after a committed file, before the next one starts"),
]


def _killed(*args: str, fault: str) -> Run:
    """Kill a run at `fault`; nothing it started may outlive it (a dbt would keep the lock)."""
    result = clinicops(*args, fault=fault)
    assert result.returncode == -signal.SIGKILL, (fault, result.stdout[-4000:])
    assert not result.survivors, (fault, result.survivors)
    return result


def _assert_nothing_corrupt(home: Home) -> None:
    """Every Parquet file of the lake and every DuckDB file of the home opens and reads."""
    for path in home.lake.rglob("*.parquet"):
        if not path.name.startswith("."):
            pq.read_table(path)
    for path in (home.warehouse, home.serving):
        if path.exists():
            with duckdb.connect(str(path), read_only=True) as con:
                tables = con.sql("select schema_name, table_name from duckdb_tables()").fetchall()
                for schema, table in tables:
                    con.sql(f'select count(*) from "{schema}"."{table}"').fetchall()


def _assert_ledger_matches_lake(home: Home) -> None:
    """Each committed delivery's rows are in the lake, and nothing else is."""
    entries = ledger.ledger(home)
    loaded = entries.filter(pl.col("status") == "loaded")
    assert loaded["sha256"].is_unique().all(), "a file was committed twice"
    committed = set(loaded["delivery_id"])
    for area, count in ((home.raw, "rows_loaded"), (home.rejected, "rows_rejected")):
        found = {
            p.name.removeprefix("delivery=")
            for p in area.glob("*/delivery=*")
            if p.name != f"delivery={SCHEMA_DELIVERY_ID}"
        }
        assert found <= committed, f"uncommitted partitions in {area}: {found - committed}"
        for entry in loaded.iter_rows(named=True):
            parts = list(area.glob(f"{entry['entity']}/delivery={entry['delivery_id']}/*.parquet"))
            frame = pl.read_parquet(parts) if parts else pl.DataFrame({"_line": []})
            rows = frame.height if area == home.raw else frame["_line"].n_unique()
            assert rows == entry[count], (area, entry)
    assert not any(home.incoming.iterdir()), "a delivery was left in _incoming"


def _rows_per_entity(home: Home) -> dict[str, int]:
    entries = ledger.ledger(home).filter(pl.col("status") == "loaded")
    return dict(entries.group_by("entity").agg(pl.col("rows_loaded").sum()).iter_rows())


def test_killed_anywhere_the_next_run_ends_as_if_never_interrupted(
    small_practice, baseline_home, tmp_path: Path
):
    home = Home(tmp_path / "home")
    stage = ["--home", str(home.root)]
    land = ["land", *stage, *small_practice.inbox_args]

    for fault, _what in LANDING_KILLS:
        _killed(*land, fault=fault)
        _assert_nothing_corrupt(home)
        if fault.startswith("land.before_ledger"):
            # The kill hit the window it names: a partition in the lake without its entry.
            committed = ledger.committed_ids(home)
            assert any(
                p.name.removeprefix("delivery=") not in committed
                for p in home.raw.glob("*/delivery=*")
            )
    run_ok(*land)
    _assert_ledger_matches_lake(home)
    assert _rows_per_entity(home) == _rows_per_entity(baseline_home)

    killed = _killed("build", *stage, fault="build.dbt@300")  # about half of dbt's output
    _assert_nothing_corrupt(home)
    assert not home.serving.exists()
    # Had its dbt been orphaned anyway (clinicops-dbt dies with its parent, so this one
    # only carries what such an orphan would), the next build ends it and goes on.
    orphan = {"CLINICOPS_WAREHOUSE": str(home.warehouse), PARENT_ENV: str(killed.pid)}
    with hold_lock(home.warehouse, **orphan) as stale:
        rebuilt = run_ok("build", *stage)
        assert stale.poll() == -signal.SIGKILL
    assert f"ended dbt PID {stale.pid}" in rebuilt.stdout
    _killed("publish", *stage, fault="publish.copying")
    assert not home.serving.exists()
    assert list(home.root.glob(".serving.duckdb.tmp-*")), "the kill left no copy to clean up"
    _killed("publish", *stage, fault="publish.swap")
    run_ok("publish", *stage)
    assert not list(home.root.glob(".serving.duckdb.tmp-*")), "abandoned copies were kept"
    _assert_nothing_corrupt(home)
    assert_same_kpis(kpi_values(home.serving), kpi_values(baseline_home.serving))
    published = sha256(home.serving)

    # The whole pipeline through Dagster: killed mid-build, the serving file is untouched.
    run = ["run", *stage, *small_practice.inbox_args]
    _killed(*run, fault="build.dbt@100")
    _assert_nothing_corrupt(home)
    assert sha256(home.serving) == published
    run_ok(*run)
    _assert_nothing_corrupt(home)
    _assert_ledger_matches_lake(home)
    assert_same_kpis(kpi_values(home.serving), kpi_values(baseline_home.serving))
