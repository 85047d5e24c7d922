"""Before a build: who holds the warehouse's DuckDB lock, and end it if it is a stale build.

`clinicops-dbt` (pipelines/model/dbt_child.py) dies with the run that started it, so this is
the second line: a dbt orphaned by a clinicops without that guard, or by a kernel that
did not deliver the signal. DuckDB takes a POSIX write lock on the whole file; F_GETLK
names the process holding it, which is how DuckDB's own error message knows it too.
"""

from __future__ import annotations

import fcntl
import os
import signal
import struct
import time
from pathlib import Path

# The environment variable through which clinicops-dbt learns which process started it
# (pipelines/model/dbt_child.py), so a lock held by a dead run's dbt can be told apart.
PARENT_ENV = "CLINICOPS_DBT_PARENT"


# struct flock on Linux (x86-64 and arm64): l_type, l_whence, l_start, l_len, l_pid.
_FLOCK = "hhqqi"
_GONE_WITHIN_S = 10.0


class WarehouseBusy(RuntimeError):
    """Another process holds the warehouse and it is not a build left over by clinicops."""


def lock_holder(warehouse: Path) -> int | None:
    """The pid of the other process holding the DuckDB lock on `warehouse`, if any."""
    try:
        fh = warehouse.open("rb")
    except FileNotFoundError:
        return None
    with fh:
        query = struct.pack(_FLOCK, fcntl.F_WRLCK, os.SEEK_SET, 0, 0, 0)
        answer = struct.unpack(_FLOCK, fcntl.fcntl(fh, fcntl.F_GETLK, query)[: len(query)])
    lock_type, pid = answer[0], answer[4]
    return None if lock_type == fcntl.F_UNLCK else pid


def release_stale_lock(warehouse: Path) -> int | None:
    """End a dbt orphaned by a killed run of this warehouse; returns its pid if there was one.

    Raises WarehouseBusy, naming the holder, when the lock belongs to anything else: a
    build that is still running (its parent alive), a dashboard, a DuckDB shell.
    """
    pid = lock_holder(warehouse)
    if pid is None:
        return None
    environ = _environ(pid)
    parent = environ.get(PARENT_ENV, "")
    built = environ.get("CLINICOPS_WAREHOUSE")
    builds_here = built is not None and Path(built).resolve() == warehouse.resolve()
    if not builds_here or (parent.isdigit() and _alive(int(parent))):
        what = "a clinicops build still running" if builds_here else "not a clinicops build"
        raise WarehouseBusy(
            f"{warehouse} is locked by PID {pid} ({_command(pid)}), {what}; "
            "wait for it to finish or stop it, then run again"
        )
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + _GONE_WITHIN_S
    while lock_holder(warehouse) == pid:
        if time.monotonic() > deadline:
            raise WarehouseBusy(f"{warehouse}: stale dbt PID {pid} did not exit after SIGKILL")
        time.sleep(0.05)
    return pid


def _environ(pid: int) -> dict[str, str]:
    try:
        raw = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:  # another user's process, or gone already
        return {}
    pairs = (item.decode(errors="replace").partition("=") for item in raw.split(b"\0") if item)
    return {key: value for key, _, value in pairs}


def _command(pid: int) -> str:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return "command unknown"
    return " ".join(raw.decode(errors="replace").replace("\0", " ").split())[:200]


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"  # a zombie has exited; only its exit status is left
