"""Who holds the warehouse lock, and which holders a build may end.

(pipelines/core/warehouse_lock.py)
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from pipelines.core.warehouse_lock import PARENT_ENV, WarehouseBusy, lock_holder, release_stale_lock
from tests.reliability.conftest import hold_lock


@pytest.fixture
def warehouse(tmp_path) -> Path:
    path = tmp_path / "warehouse.duckdb"
    duckdb.connect(str(path)).close()
    return path


def test_a_free_or_missing_warehouse_has_no_holder(warehouse, tmp_path):
    assert lock_holder(warehouse) is None
    assert lock_holder(tmp_path / "missing.duckdb") is None
    assert release_stale_lock(warehouse) is None


def test_a_foreign_holder_is_named_and_left_alone(warehouse):
    with hold_lock(warehouse) as holder:
        assert lock_holder(warehouse) == holder.pid
        with pytest.raises(WarehouseBusy, match=rf"PID {holder.pid} .*not a clinicops build"):
            release_stale_lock(warehouse)
        assert holder.poll() is None


def test_a_build_whose_parent_is_alive_is_left_alone(warehouse):
    env = {"CLINICOPS_WAREHOUSE": str(warehouse), PARENT_ENV: str(os.getpid())}
    with hold_lock(warehouse, **env) as holder:
        with pytest.raises(WarehouseBusy, match=rf"PID {holder.pid} .*still running"):
            release_stale_lock(warehouse)
        assert holder.poll() is None


def test_an_orphaned_build_of_this_warehouse_is_ended(warehouse):
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    env = {"CLINICOPS_WAREHOUSE": str(warehouse), PARENT_ENV: dead.stdout.strip()}
    with hold_lock(warehouse, **env) as holder:
        assert release_stale_lock(warehouse) == holder.pid
        assert holder.wait(timeout=10) == -signal.SIGKILL
        assert lock_holder(warehouse) is None
        duckdb.connect(str(warehouse)).close()  # the next build can open it
