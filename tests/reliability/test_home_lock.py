"""One writer per home (issue 21, item 2): a second writer stops at once, naming the holder,
or waits for it; two landings started together never land a file twice."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import duckdb
import polars as pl
import pytest

from pipelines.core.home import Home
from pipelines.core.home_lock import home_lock
from pipelines.land import ledger
from tests.conftest import clinicops_command
from tests.landing.conftest import deliver, row
from tests.reliability.conftest import hold_lock

HOLD = (
    "import sys, time\n"
    "from pathlib import Path\n"
    "from pipelines.core.home_lock import home_lock\n"
    "with home_lock(Path(sys.argv[1])):\n"
    "    print('held', flush=True)\n"
    "    sys.stdin.readline()\n"
)


@contextmanager
def holder(root: Path):
    """Another process holding the home's writer lock until the block ends."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(root)], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    try:
        assert proc.stdout.readline().strip() == b"held"
        yield proc
    finally:
        if proc.poll() is None:
            proc.stdin.close()
            proc.wait(timeout=30)


def _cli(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run(
        [clinicops_command(), *args], capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture
def small_inbox(tmp_path: Path) -> Path:
    inbox = tmp_path / "inbox"
    for entity in ("locations", "payers", "claims", "charges"):
        deliver(inbox, entity, [row(entity)])
    deliver(inbox, "claims", [row("claims", claim_id="CL2")], name="claims_2.csv")
    return inbox


def test_the_lock_is_reentrant_in_a_process_and_exclusive_across_processes(tmp_path: Path):
    root = tmp_path / "home"
    with home_lock(root), home_lock(root):
        proc = subprocess.run(
            [sys.executable, "-c", HOLD, str(root)], capture_output=True, text=True, input=""
        )
        assert proc.returncode != 0
        assert "HomeBusy" in proc.stderr
        assert f"PID {os.getpid()}" in proc.stderr
    with home_lock(root):  # released when the outer block ended
        pass


def test_a_second_writer_stops_at_once_naming_the_holder(tmp_path: Path, small_inbox: Path):
    root = tmp_path / "home"
    with holder(root) as other:
        started = time.monotonic()
        for command in (["land", "--inbox", str(small_inbox)], ["build"], ["publish"]):
            proc = _cli(*command, "--home", str(root))
            assert proc.returncode == 1, proc.stderr
            # (the first command also warns that the holder made the home open to others)
            message = "\n".join(
                line for line in proc.stderr.strip().splitlines() if not line.startswith("warning:")
            )
            assert "is in use by another clinicops process" in message
            assert f"PID {other.pid}" in message and "started 20" in message
            assert "Traceback" not in proc.stderr, proc.stderr
            assert len(message.splitlines()) == 1, message
        assert time.monotonic() - started < 120
    assert not Home(root).ledger.exists() or ledger.ledger(Home(root)).height == 0


def test_a_second_writer_told_to_wait_lands_after_the_holder(tmp_path: Path, small_inbox: Path):
    root = tmp_path / "home"
    with holder(root) as other:
        threading.Timer(3, other.stdin.close).start()
        proc = _cli("--wait", "300", "land", "--home", str(root), "--inbox", str(small_inbox))
    assert proc.returncode == 0, proc.stderr
    assert ledger.ledger(Home(root)).filter(pl.col("status") == "loaded").height == 5


def test_two_landings_started_together_land_each_file_once(tmp_path: Path, small_inbox: Path):
    root = tmp_path / "home"
    args = [clinicops_command(), "land", "--home", str(root), "--inbox", str(small_inbox)]
    procs = [subprocess.Popen(args, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outcomes = [(p.wait(timeout=600), p.stderr.read()) for p in procs]
    codes = sorted(code for code, _ in outcomes)
    loaded = ledger.ledger(Home(root)).filter(pl.col("status") == "loaded")
    assert loaded["sha256"].is_unique().all(), "a file was landed twice"
    assert loaded.height == 5
    if codes == [0, 1]:  # they overlapped: the loser said who held the home
        (loser,) = [err for code, err in outcomes if code == 1]
        assert "is in use by another clinicops process" in loser
    else:  # one finished before the other started: the second found the same bytes
        assert codes == [0, 0]


def test_publish_names_the_program_holding_the_warehouse(tmp_path: Path):
    home = Home(tmp_path / "home")
    home.root.mkdir()
    duckdb.connect(str(home.warehouse)).close()
    with hold_lock(home.warehouse) as shell:
        proc = _cli("publish", "--home", str(home.root))
    assert proc.returncode == 1
    assert f"is held by PID {shell.pid}" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr and "Could not set lock" not in proc.stderr
