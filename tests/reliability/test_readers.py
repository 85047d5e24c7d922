"""Readers keep querying the serving file while the pipeline rebuilds and republishes it.

Reader processes query while a new delivery is landed, built and published: two open
the serving file directly, two read as a dashboard page does through dashboards/data/query.py
(readers.py). Every answer must succeed and match, in full, one published state: the one
before or the one after, never a mix of the two. test_readers_browser.py does the same
through the Streamlit app over HTTP.
"""

from __future__ import annotations

import multiprocessing
import shutil
import statistics
import sys
import time
import types
from concurrent.futures import ProcessPoolExecutor

import pytest

from dashboards.access import Principal, Role, acting_as
from dashboards.data import query
from pipelines.core.home import Home
from tests.reliability.conftest import run_ok
from tests.reliability.readers import (
    checksum,
    late_charges,
    page_view,
    read_query_layer_until,
    read_until,
)

pytestmark = pytest.mark.e2e

READERS_PER_KIND = 2  # file readers and query-layer readers: 4 processes on 2 cores


def _summary(kind: str, answers: list[dict], started: float, published: float) -> str:
    seconds = sorted(a["seconds"] for a in answers)
    during = [a for a in answers if started <= a["at"] <= published]
    return (
        f"{READERS_PER_KIND} {kind} readers, {len(answers)} answers ({len(during)} during the "
        f"rebuild), latency median {statistics.median(seconds) * 1000:.1f} ms, "
        f"p95 {seconds[int(0.95 * (len(seconds) - 1))] * 1000:.1f} ms, "
        f"max {seconds[-1] * 1000:.0f} ms"
    )


def test_readers_see_the_old_or_the_new_state_never_a_mix(
    baseline_home, tmp_path, capsys, monkeypatch
):
    home = Home(tmp_path / "home")
    shutil.copytree(baseline_home.root, home.root)
    monkeypatch.setenv(query.HOME_ENV, str(home.root))
    reader = Principal("reliability-test", Role.ADMIN)
    before = {"file": checksum(home.serving)}
    with acting_as(reader):
        before["query layer"] = page_view()
    delivery = tmp_path / "late"
    late_charges(home, delivery)
    stop = tmp_path / "stop"
    stage = ["--home", str(home.root)]

    # A spawned reader re-runs the parent's `__main__` file; after a Streamlit AppTest in
    # this process that is dashboards/app/app.py, so the readers start from an empty one.
    monkeypatch.setitem(sys.modules, "__main__", types.ModuleType("__main__"))
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(2 * READERS_PER_KIND, mp_context=context) as pool:
        readers = {
            "file": [
                pool.submit(read_until, str(home.serving), str(stop))
                for _ in range(READERS_PER_KIND)
            ],
            "query layer": [
                pool.submit(read_query_layer_until, str(home.root), str(stop))
                for _ in range(READERS_PER_KIND)
            ],
        }
        time.sleep(10)  # readers are up (the query layer imports Streamlit) on the old state
        started = time.time()
        run_ok("land", *stage, "--inbox", str(delivery))
        run_ok("build", *stage)
        run_ok("publish", *stage)
        published = time.time()
        time.sleep(5)  # and go on to query the new one
        stop.touch()
        answers = {
            kind: [a for r in futures for a in r.result()] for kind, futures in readers.items()
        }

    after = {"file": checksum(home.serving)}
    with acting_as(reader):
        after["query layer"] = page_view()
    for kind, kind_answers in answers.items():
        old, new = before[kind], after[kind]
        assert old[0] != new[0] and old[2] != new[2], f"{kind}: the delivery changed no KPI"
        errors = [a["error"] for a in kind_answers if a["error"]]
        assert not errors, (kind, errors[:5])
        states = {tuple(a["state"]) for a in kind_answers}
        assert states <= {old, new}, (kind, states - {old, new})
        assert any(started <= a["at"] <= published for a in kind_answers), kind
        assert any(tuple(a["state"]) == new for a in kind_answers if a["at"] > published), kind
        with capsys.disabled():
            print("\n" + _summary(kind, kind_answers, started, published) + ", 0 errors")
