"""Readers keep querying the serving file while the pipeline rebuilds and republishes it.

N reader processes query as the dashboards do (open read-only, query, close) while a new
delivery is landed, built and published. Every answer must succeed and match, in full,
one published state: the one before or the one after, never a mix of the two.
"""

from __future__ import annotations

import multiprocessing
import shutil
import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import polars as pl
import pytest

from pipelines.lake import Home
from tests.landing.conftest import csv_text
from tests.reliability.conftest import run_ok
from tests.reliability.readers import checksum, read_until

pytestmark = pytest.mark.e2e

READERS = 4


def _late_charges(home: Home, folder: Path) -> None:
    """A new billing delivery that changes KPIs: every charge of one claim billed again."""
    charges = pl.read_parquet(home.raw / "charges" / "*" / "*.parquet")
    some = charges.filter(pl.col("_delivery_id") != "000000").head(20)
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


def test_readers_see_the_old_or_the_new_state_never_a_mix(baseline_home, tmp_path, capsys):
    home = Home(tmp_path / "home")
    shutil.copytree(baseline_home.root, home.root)
    before = checksum(home.serving)
    delivery = tmp_path / "late"
    _late_charges(home, delivery)
    stop = tmp_path / "stop"
    stage = ["--home", str(home.root)]

    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(READERS, mp_context=context) as pool:
        readers = [pool.submit(read_until, str(home.serving), str(stop)) for _ in range(READERS)]
        time.sleep(2)  # readers are up and querying the old state
        started = time.time()
        run_ok("land", *stage, "--inbox", str(delivery))
        run_ok("build", *stage)
        run_ok("publish", *stage)
        published = time.time()
        time.sleep(2)  # and go on to query the new one
        stop.touch()
        answers = [a for r in readers for a in r.result()]

    after = checksum(home.serving)
    assert after != before and after[2] != before[2], "the new delivery changed no KPI"
    errors = [a["error"] for a in answers if a["error"]]
    assert not errors, errors[:5]
    states = {tuple(a["state"]) for a in answers}
    assert states <= {before, after}, states - {before, after}
    during = [a for a in answers if started <= a["at"] <= published]
    assert during and {tuple(a["state"]) for a in during} <= {before, after}
    assert any(tuple(a["state"]) == after for a in answers if a["at"] > published)
    seconds = sorted(a["seconds"] for a in answers)
    with capsys.disabled():
        print(
            f"\n{READERS} readers, {len(answers)} answers ({len(during)} during the rebuild), "
            f"0 errors; latency median {statistics.median(seconds) * 1000:.0f} ms, "
            f"p95 {seconds[int(0.95 * (len(seconds) - 1))] * 1000:.0f} ms, "
            f"max {seconds[-1] * 1000:.0f} ms"
        )
