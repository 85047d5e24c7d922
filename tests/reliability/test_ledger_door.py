"""The ledger is the only door (issue 21, item 3).

A landing killed after its Parquet parts reached the lake but before its ledger entry,
then a build, then the next landing: dbt must not have read the unledgered partition,
its delivery id must not be issued again, and the end state must equal a run never
interrupted.
"""

from __future__ import annotations

import duckdb
import polars as pl
import pytest

from pipelines.core.home import Home
from pipelines.land import ledger
from tests.reliability.conftest import assert_same_kpis, clinicops, kpi_values, run_ok

pytestmark = pytest.mark.e2e

# The sample inbox lands appointments, budget, then charges: the third file.
KILL_AT = "land.before_ledger@3"


def test_a_partition_without_ledger_entry_is_never_built_and_its_id_never_reused(
    small_practice, baseline_home, tmp_path
):
    home = Home(tmp_path / "home")
    stage = ["--home", str(home.root)]
    killed = clinicops("land", *stage, "--inbox", str(small_practice.inbox), fault=KILL_AT)
    assert killed.returncode < 0, killed.stdout[-3000:]
    committed = ledger.committed_ids(home)
    debris = {
        p.name.removeprefix("delivery=")
        for p in home.raw.glob("charges/delivery=*")
        if p.name.removeprefix("delivery=") not in committed
    } - {"000000"}
    assert len(debris) == 1, "the kill left no partition without its ledger entry"
    (debris_id,) = debris

    run_ok("build", *stage)  # the debris is still in the lake while dbt builds
    with duckdb.connect(str(home.warehouse), read_only=True) as con:
        staged = con.execute("select count(*) from staging.stg_billing__charges").fetchone()[0]
    assert staged == 0, "dbt read a partition the ledger does not record"
    run_ok("land", *stage, *small_practice.inbox_args)
    entries = ledger.ledger(home)
    assert debris_id not in set(entries["delivery_id"]), "the debris's delivery id was reused"
    loaded = entries.filter(pl.col("status") == "loaded")
    assert loaded["sha256"].is_unique().all()
    run_ok("build", *stage)
    run_ok("publish", *stage)
    assert_same_kpis(kpi_values(home.serving), kpi_values(baseline_home.serving))
