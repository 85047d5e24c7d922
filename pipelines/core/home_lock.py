"""One writer per practice home: land, build, publish, pull and run hold this lock.

Two runs on one home at once used to land every file twice (the same-bytes check and the
ledger entry are not one step), race on Dagster's storage (two `alembic_version` heads
that break every later run) and fight over the warehouse. The lock is an exclusive
`flock` on `<home>/.clinicops.lock`: the kernel releases it when its holder dies, so a
killed run never leaves a stale lock. The holder writes who it is (pid, command, start
time) to `<home>/.clinicops.lock.holder`, so the loser's message names it.

The lock is re-entrant within a process: `clinicops run` holds it for the whole run, and
the landing, build and publish it calls in-process take it again for free; under
`dagster dev` each step runs in its own process and takes it itself.

A second writer exits at once with `HomeBusy`, or waits up to `wait_s` seconds
(`clinicops --wait SECONDS`, or $CLINICOPS_LOCK_WAIT) for the holder to finish.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from pipelines.core.failures import OperatorError

WAIT_ENV = "CLINICOPS_LOCK_WAIT"
_POLL_S = 0.2

_held: dict[Path, int] = {}
_guard = threading.Lock()


class HomeBusy(OperatorError):
    """Another clinicops process is writing the same home."""


def lock_path(root: Path) -> Path:
    return root / ".clinicops.lock"


def holder_path(root: Path) -> Path:
    return root / ".clinicops.lock.holder"


def default_wait() -> float:
    try:
        return max(0.0, float(os.environ.get(WAIT_ENV, "0") or 0))
    except ValueError:
        return 0.0


@contextlib.contextmanager
def home_lock(root: Path, wait_s: float | None = None) -> Iterator[None]:
    """Hold the home's writer lock for the block; HomeBusy if another process holds it."""
    key = root.resolve()
    with _guard:
        if _held.get(key):
            _held[key] += 1
            reentered = True
        else:
            reentered = False
    if reentered:
        try:
            yield
        finally:
            with _guard:
                _held[key] -= 1
        return
    key.mkdir(parents=True, exist_ok=True)
    fh = open(lock_path(key), "a+")  # noqa: SIM115 (held for the block)
    try:
        _acquire(fh, key, default_wait() if wait_s is None else wait_s)
        _write_holder(key)
        with _guard:
            _held[key] = 1
        try:
            yield
        finally:
            with _guard:
                _held.pop(key, None)
            holder_path(key).unlink(missing_ok=True)
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
    finally:
        fh.close()


def _acquire(fh, root: Path, wait_s: float) -> None:
    deadline = time.monotonic() + wait_s
    while True:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise HomeBusy(_busy_message(root, wait_s)) from None
            time.sleep(_POLL_S)


def _busy_message(root: Path, wait_s: float) -> str:
    holder = describe_holder(root)
    waited = f" (waited {wait_s:g} s)" if wait_s else ""
    return (
        f"{root} is in use by another clinicops process{waited}: {holder}; wait for it to "
        f"finish and run again, or pass --wait SECONDS to wait for it"
    )


def describe_holder(root: Path) -> str:
    """`PID 123 (clinicops run …), started 2026-12-07 19:40:02 UTC`, or what is known."""
    try:
        info = json.loads(holder_path(root).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return "its PID is not recorded yet"
    if not Path(f"/proc/{info.get('pid')}").exists():  # left by a holder that was killed
        return "its PID is not recorded yet"
    return f"PID {info.get('pid')} ({info.get('command', '?')}), started {info.get('started')}"


def _write_holder(root: Path) -> None:
    info = {
        "pid": os.getpid(),
        "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]])[:200],
        "started": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
    }
    target = holder_path(root)
    tmp = target.with_name(f"{target.name}.tmp-{os.getpid()}")
    try:
        tmp.write_text(json.dumps(info), encoding="utf-8")
        os.replace(tmp, target)
    except OSError:  # a full disk must not stop the run from saying who holds the lock
        tmp.unlink(missing_ok=True)
