"""Two `clinicops run` started together on one home (issue 21, item 2), five times over.

Each pair, on a new home and then on the home the pair built: one run publishes, the
other stops at once with a message naming it, no file is landed twice, and the next run
(the next pair, then one run at the end) succeeds. Before the home lock, two runs on a
new home left two `alembic_version` heads in Dagster's database in 2 of 3 tries, which
broke every later run, and landed every file twice.

About half an hour on a busy two-core machine, so it is `extended` (left out of the
default run and CI's budget): `pytest -m extended tests/reliability/test_concurrent_runs.py`.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import duckdb
import polars as pl
import pytest

from pipelines.core.home import Home
from pipelines.land import ledger
from tests.conftest import clinicops_command
from tests.reliability.conftest import RUN_TIMEOUT, run_ok

pytestmark = [pytest.mark.e2e, pytest.mark.extended]

PAIRS = 5


def _published_at(home: Home):
    if not home.serving.exists():
        return None
    with duckdb.connect(str(home.serving), read_only=True) as con:
        return con.execute("select published_at from marts.publish_info").fetchone()[0]


def _pair(home: Home, inbox_args: list[str]) -> list[tuple[int, int, str]]:
    """Start two runs at once; (pid, exit code, output) of each."""
    command = [clinicops_command(), "run", "--home", str(home.root), *inbox_args]
    procs = [
        subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "CLINICOPS_LOCK_WAIT": "0"},
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=RUN_TIMEOUT)[0] for p in procs]
    return [(p.pid, p.returncode, out) for p, out in zip(procs, outputs, strict=True)]


def _check_pair(home: Home, outcomes, before) -> None:
    codes = sorted(code for _, code, _ in outcomes)
    assert codes == [0, 1], [(code, out[-3000:]) for _, code, out in outcomes]
    (winner,) = [pid for pid, code, _ in outcomes if code == 0]
    (loser,) = [out for _, code, out in outcomes if code == 1]
    last = loser.strip().splitlines()[-1]
    assert "is in use by another clinicops process" in last and f"PID {winner}" in last, loser
    assert "Traceback" not in loser
    assert _published_at(home) not in (None, before), "no new publish"
    loaded = ledger.ledger(home).filter(pl.col("status") == "loaded")
    assert loaded["sha256"].is_unique().all(), "a file was landed twice"


def test_two_runs_started_together(small_practice, tmp_path: Path):
    homes = []
    for i in range(PAIRS):
        home = Home(tmp_path / f"home-{i}")
        started = time.monotonic()
        _check_pair(home, _pair(home, small_practice.inbox_args), None)  # a new home
        print(f"pair {i + 1} on a new home: ok in {time.monotonic() - started:.0f} s", flush=True)
        files = ledger.ledger(home).height
        before = _published_at(home)
        started = time.monotonic()
        _check_pair(home, _pair(home, small_practice.inbox_args), before)  # a built home
        assert ledger.ledger(home).height == files, "the second pair landed something again"
        print(f"pair {i + 1} on a built home: ok in {time.monotonic() - started:.0f} s", flush=True)
        homes.append(home)
    run_ok("run", "--home", str(homes[-1].root), *small_practice.inbox_args)
