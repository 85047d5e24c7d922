"""A small practice, one never-interrupted run of it, and helpers to run and kill the CLI.

The pipeline runs as a real `clinicops` process, so that a SIGKILL (pipelines/faults.py)
takes it down as a power cut would; the helper then kills whatever it started that is
still running (dbt), as the reboot would.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl
import pytest

from pipelines.faults import FAULT_ENV
from pipelines.lake import Home
from pipelines.sample import generate_corrections, generate_practice
from tests.conftest import clinicops_command

RUN_TIMEOUT = 900
RUN_MARKER_ENV = "CLINICOPS_TEST_RUN"


@dataclass(frozen=True)
class Practice:
    inbox: Path
    corrections: Path

    @property
    def inbox_args(self) -> list[str]:
        return ["--inbox", str(self.inbox), "--inbox", str(self.corrections)]


@pytest.fixture(scope="session")
def small_practice(tmp_path_factory) -> Practice:
    root = tmp_path_factory.mktemp("small_practice")
    generate_practice(root / "inbox", providers=2, weeks=8)
    generate_corrections(root / "inbox", root / "corrections")
    return Practice(root / "inbox", root / "corrections")


def _kill_descendants(marker: str) -> None:
    """SIGKILL every process still carrying `marker` in its environment.

    dagster-dbt starts dbt in a session of its own, so killing the pipeline's session
    leaves dbt running (and holding the warehouse's lock); a reboot would not.
    """
    needle = f"{RUN_MARKER_ENV}={marker}".encode()
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if needle in (proc / "environ").read_bytes().split(b"\0"):
                os.kill(int(proc.name), signal.SIGKILL)
        except (OSError, ProcessLookupError):
            continue


def clinicops(*args: str, fault: str | None = None) -> subprocess.CompletedProcess:
    """Run `clinicops <args>`; with `fault`, the process is expected to kill itself there."""
    marker = uuid.uuid4().hex
    env = {k: v for k, v in os.environ.items() if k != FAULT_ENV}
    env[RUN_MARKER_ENV] = marker
    if fault:
        env[FAULT_ENV] = fault
    proc = subprocess.Popen(
        [clinicops_command(), *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        output, _ = proc.communicate(timeout=RUN_TIMEOUT)
    finally:
        # What a reboot does to the children (dbt) of a process that was killed.
        _kill_descendants(marker)
    return subprocess.CompletedProcess(proc.args, proc.returncode, output, "")


def run_ok(*args: str) -> subprocess.CompletedProcess:
    result = clinicops(*args)
    assert result.returncode == 0, result.stdout[-6000:]
    return result


@pytest.fixture(scope="session")
def baseline_home(small_practice, tmp_path_factory) -> Home:
    """The small practice run once by `clinicops run`, never interrupted."""
    home = Home(tmp_path_factory.mktemp("baseline") / "home")
    run_ok("run", "--home", str(home.root), *small_practice.inbox_args)
    return home


def kpi_values(serving: Path) -> pl.DataFrame:
    with duckdb.connect(str(serving), read_only=True) as con:
        frame = con.sql("select * from marts.kpi_values").pl()
    keys = [c for c, dtype in frame.schema.items() if not dtype.is_float()]
    return frame.sort(keys, nulls_last=True)


def assert_same_kpis(got: pl.DataFrame, expected: pl.DataFrame) -> None:
    """Same rows; figures equal up to float summation order (DuckDB sums in parallel)."""
    keys = [c for c, dtype in expected.schema.items() if not dtype.is_float()]
    assert got.select(keys).equals(expected.select(keys))
    for column in set(expected.columns) - set(keys):
        a, b = got[column], expected[column]
        close = (a - b).abs() <= 1e-9 * (1 + b.abs())
        assert (close.fill_null(False) | (a.is_null() & b.is_null())).all(), column


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
