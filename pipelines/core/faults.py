"""Crash injection for the reliability tests, so a kill can land at an exact point.

`CLINICOPS_FAULT=<point>` (or `<point>@<n>`) makes the process kill itself with SIGKILL
the first (or n-th) time it reaches `point(<point>)`: no cleanup handler, `finally` or
atexit runs, exactly as when a machine loses power. Unset, a call costs one lookup.
"""

from __future__ import annotations

import os
import signal

FAULT_ENV = "CLINICOPS_FAULT"

_reached: dict[str, int] = {}


def point(name: str) -> None:
    wanted = os.environ.get(FAULT_ENV)
    if not wanted or wanted.partition("@")[0] != name:
        return
    _reached[name] = _reached.get(name, 0) + 1
    if _reached[name] == int(wanted.partition("@")[2] or 1):
        os.kill(os.getpid(), signal.SIGKILL)
