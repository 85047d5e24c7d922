"""Failures an operator can cause or meet, each told in one sentence: what, and what to do.

A full disk, a folder the pipeline may not write, another run holding the home: none of
these is a bug, so none should end in a traceback. Code that meets one raises an
`OperatorError` whose message is that one sentence; the CLI prints it and exits 1
(`clinicops --debug …` shows the traceback as well).
"""

from __future__ import annotations

import errno
from pathlib import Path


class OperatorError(RuntimeError):
    """A failure the operator can fix; its message is one sentence saying how."""


class DiskFull(OperatorError):
    """The disk holding the home (or the inbox) has no space left."""


class NotPermitted(OperatorError):
    """The pipeline may not read or write a file or folder it needs."""


# errno values that mean "no space": ENOSPC, and EDQUOT (a user quota is full).
_NO_SPACE = {errno.ENOSPC, errno.EDQUOT}
_NOT_PERMITTED = {errno.EACCES, errno.EPERM, errno.EROFS}


def is_disk_full(exc: BaseException) -> bool:
    """OSError ENOSPC/EDQUOT, or a library's error that only says so in its text (DuckDB)."""
    if isinstance(exc, OSError) and exc.errno in _NO_SPACE:
        return True
    text = str(exc).lower()
    return "no space left on device" in text or "disk quota exceeded" in text


def operator_error(exc: BaseException, doing: str, where: Path) -> OperatorError | None:
    """The one-sentence form of `exc` met while `doing` something in `where`, if it is one."""
    if is_disk_full(exc):
        return DiskFull(
            f"{doing} stopped: the disk holding {where} is full; free some space there "
            "and run the same command again (nothing half-written was kept)"
        )
    if isinstance(exc, OSError) and exc.errno == errno.EROFS:
        return NotPermitted(
            f"{doing} stopped: {exc.filename or where} is on a read-only file system; "
            "give clinicops a home on a writable disk and run the same command again"
        )
    if isinstance(exc, OSError) and exc.errno in _NOT_PERMITTED:
        target = exc.filename or where
        return NotPermitted(
            f"{doing} stopped: permission denied on {target}; give the user running "
            "clinicops read and write access there and run the same command again"
        )
    return None
