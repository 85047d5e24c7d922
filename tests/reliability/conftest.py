"""A small practice, one never-interrupted run of it, and helpers to run and kill the CLI.

The pipeline runs as a real `clinicops` process, so that a SIGKILL (pipelines/core/faults.py)
takes it down as a power cut would. The helper reports whatever the run started that
outlived it (an orphaned dbt would hold the warehouse lock) and then kills it, as a
reboot would.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import polars as pl
import pytest

from pipelines.core.faults import FAULT_ENV
from pipelines.core.home import Home
from pipelines.sample import generate_corrections, generate_practice
from tests.conftest import clinicops_command

RUN_TIMEOUT = 900
RUN_MARKER_ENV = "CLINICOPS_TEST_RUN"
ORPHAN_GRACE_S = 10
HOLD_LOCK = (
    "import duckdb, sys, time\n"
    "con = duckdb.connect(sys.argv[1])\n"
    "print('locked', flush=True)\n"
    "time.sleep(600)\n"
)


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


def _started_by(marker: str) -> dict[int, str]:
    """The live processes carrying `marker` in their environment: pid -> command line."""
    needle = f"{RUN_MARKER_ENV}={marker}".encode()
    found = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if needle not in (proc / "environ").read_bytes().split(b"\0"):
                continue
            if (proc / "stat").read_text().rpartition(")")[2].split()[0] == "Z":
                continue  # exited; its parent is gone and init has yet to reap it
            found[int(proc.name)] = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except (OSError, IndexError):
            continue
    return found


def _outliving(marker: str) -> list[str]:
    """The commands of processes the run started that are still alive once it is over.

    A process dying with its parent takes a moment; one still there after that is an
    orphan, and is SIGKILLed here as a reboot would, so that it cannot hold the next
    run's warehouse lock.
    """
    deadline = time.monotonic() + ORPHAN_GRACE_S
    while (alive := _started_by(marker)) and time.monotonic() < deadline:
        time.sleep(0.1)
    for pid in alive:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    return sorted(alive.values())


@dataclass(frozen=True)
class Run:
    pid: int
    returncode: int
    stdout: str
    survivors: list[str]  # processes it started that outlived it (killed since)


def clinicops(*args: str, fault: str | None = None) -> Run:
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
        survivors = _outliving(marker)
    return Run(proc.pid, proc.returncode, output, survivors)


@contextmanager
def hold_lock(warehouse: Path, **env: str) -> Iterator[subprocess.Popen]:
    """A process holding the DuckDB lock on `warehouse`, with `env` added to its environment."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(warehouse)],
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        yield holder
    finally:
        holder.kill()
        holder.wait()


def run_ok(*args: str) -> Run:
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
