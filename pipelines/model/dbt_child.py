"""`clinicops-dbt`: the dbt executable clinicops starts, bound to die with its parent.

dbt holds the warehouse's DuckDB lock for the whole build. When the process that
started it is killed outright (SIGKILL, the OOM killer), a plain child lives on, still
holding the lock, and the next run fails on it. This entry point asks Linux to SIGKILL
it when its parent goes (PR_SET_PDEATHSIG), then becomes dbt with `exec`: the request
survives the exec, so dbt itself carries it. dagster-dbt and `pipelines.model.build` both
start dbt through here (`build.DBT_EXECUTABLE`).

Linux sends the signal when the *thread* that started the child exits, not the whole
process: both callers start dbt from the thread that then reads its output to the end,
so that thread outlives a dbt that finishes normally.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
from pathlib import Path

from pipelines.core.warehouse_lock import PARENT_ENV

# The pid of the process starting dbt, set in the child's environment by the caller: if
# that process died between fork and prctl, the request came too late to fire, and the
# child notices here instead. It also tells a later run which orphan is a stale build.
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def parent_env() -> dict[str, str]:
    """What the starting process adds to dbt's environment."""
    return {PARENT_ENV: str(os.getpid())}


def main() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"prctl(PR_SET_PDEATHSIG): {os.strerror(errno)}")
    parent = os.environ.get(PARENT_ENV)
    if parent and os.getppid() != int(parent):
        sys.exit(f"clinicops-dbt: the process that started dbt (PID {parent}) is gone")
    dbt = Path(sys.executable).with_name("dbt")
    os.execv(dbt, [str(dbt), *sys.argv[1:]])
