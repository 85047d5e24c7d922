"""Delivery ids, the ledger, and recovery from a landing that crashed half-way.

A delivery is committed by writing its ledger entry, and that is done last: a raw or
rejected partition without a ledger entry is debris from a crash and is removed at the
start of the next landing (its file is still in the inbox and lands again).

Per-entity landings may run in parallel processes, so ids are allocated under an
exclusive `fcntl` lock on the lake, and each delivery in flight holds a lock on its own
`_incoming/<id>.lock` file until it is committed. Recovery removes only debris whose
lock nobody holds: a delivery another process is still writing is left alone, and the
lock of a process that died is released by the kernel.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import polars as pl

from pipelines.core.home import (
    LEDGER_SCHEMA,
    SCHEMA_DELIVERY_ID,
    Home,
    write_parquet_atomic,
    write_text_atomic,
)

ID_WIDTH = 6
_PARTITION_RE = re.compile(r"^delivery=(\d+)(\.parquet|\.json)?$")


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def _lake_lock(home: Home) -> contextlib.AbstractContextManager[None]:
    return _locked(home.lake / ".landing.lock")


def _ids_in(folder: Path) -> set[str]:
    if not folder.is_dir():
        return set()
    return {m.group(1) for p in folder.iterdir() if (m := _PARTITION_RE.match(p.name))}


def _partitions(home: Home) -> Iterator[tuple[str, Path]]:
    """(delivery id, path) of every raw, rejected and quality item of every entity."""
    for area in (home.raw, home.rejected, home.quality):
        if not area.is_dir():
            continue
        for entity_dir in area.iterdir():
            if not entity_dir.is_dir():
                continue
            for item in entity_dir.iterdir():
                if m := _PARTITION_RE.match(item.name):
                    yield m.group(1), item


def committed_ids(home: Home) -> set[str]:
    return _ids_in(home.ledger)


def _in_flight(home: Home, delivery_id: str) -> bool:
    lock = home.incoming / f"{delivery_id}.lock"
    if not lock.exists():
        return False
    with open(lock, "a+") as fh:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(fh.fileno(), fcntl.LOCK_UN)
        return False


def _remove(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def recover(home: Home) -> list[Path]:
    """Remove what crashed landings left behind; the removed paths, for the log."""
    removed: list[Path] = []
    with _lake_lock(home):
        committed = committed_ids(home)
        for delivery_id, path in list(_partitions(home)):
            if delivery_id == SCHEMA_DELIVERY_ID or delivery_id in committed:
                continue
            if not _in_flight(home, delivery_id):
                _remove(path)
                removed.append(path)
        if home.incoming.is_dir():
            for item in home.incoming.iterdir():
                delivery_id = item.name.split(".", 1)[0]
                if item.suffix != ".lock" and not _in_flight(home, delivery_id):
                    _remove(item)
                    removed.append(item)
            for item in home.incoming.glob("*.lock"):
                delivery_id = item.name.split(".", 1)[0]
                if not (home.incoming / delivery_id).exists() and not _in_flight(home, delivery_id):
                    item.unlink(missing_ok=True)
        for leftover in [*home.ledger.glob(".*.tmp-*"), *home.lake.glob(".*.tmp-*")]:
            leftover.unlink(missing_ok=True)
            removed.append(leftover)
    return removed


class Reservation:
    """A delivery id held by this process until its ledger entry is written."""

    def __init__(self, home: Home, delivery_id: str, lock_file) -> None:
        self.home = home
        self.delivery_id = delivery_id
        self._lock_file = lock_file

    @property
    def scratch(self) -> Path:
        return self.home.incoming / self.delivery_id

    def release(self) -> None:
        """Drop the scratch folder and the lock; call after the ledger entry is written."""
        shutil.rmtree(self.scratch, ignore_errors=True)
        (self.home.incoming / f"{self.delivery_id}.lock").unlink(missing_ok=True)
        fcntl.flock(self._lock_file.fileno(), fcntl.LOCK_UN)
        self._lock_file.close()


def _last_issued(home: Home) -> Path:
    return home.lake / ".last_delivery_id"


def reserve(home: Home) -> Reservation:
    """The next delivery id, with an empty scratch folder and its in-flight lock held.

    An id is never issued twice, even when its delivery crashed and recovery removed its
    debris: a build may have read that debris, and incremental staging takes only ids
    above the highest it has seen, so a reused id would be skipped for good. The last
    id issued is therefore kept in `lake/.last_delivery_id`, written before it is used.
    """
    with _lake_lock(home):
        used = committed_ids(home) | {i for i, _ in _partitions(home)}
        if home.incoming.is_dir():
            used |= {p.name.split(".", 1)[0] for p in home.incoming.iterdir()}
        numbers = [int(i) for i in used if i.isdigit()]
        with contextlib.suppress(FileNotFoundError, ValueError):
            numbers.append(int(_last_issued(home).read_text().strip()))
        delivery_id = f"{max(numbers, default=0) + 1:0{ID_WIDTH}d}"
        write_text_atomic(_last_issued(home), delivery_id)
        home.incoming.mkdir(parents=True, exist_ok=True)
        lock_file = open(home.incoming / f"{delivery_id}.lock", "a+")  # noqa: SIM115 (held until release)
        fcntl.flock(lock_file.fileno(), fcntl.LOCK_EX)
        (home.incoming / delivery_id).mkdir()
    return Reservation(home, delivery_id, lock_file)


def loaded_keys(home: Home) -> set[tuple[str, str | None, str | None]]:
    """(sha256, entity, route) of every file landed successfully: the same bytes landed
    again as the same entity by the same route are a no-op. One file read by two routes
    (charges and transactions from one export) is two deliveries."""
    frame = ledger(home).filter(pl.col("status") == "loaded")
    return set(frame.select("sha256", "entity", "route").iter_rows())


def printable_name(name: str) -> str:
    """A file name as text that can be stored and printed.

    A name read from disk that is not UTF-8 (`claims_\\xe9.csv` from a Latin-1 machine)
    arrives with surrogate escapes, which Parquet, the terminal and the log all refuse;
    its undecodable bytes are written as `\\xe9` instead.
    """
    return os.fsencode(name).decode("utf-8", errors="backslashreplace")


def write_entry(home: Home, entry: dict) -> None:
    """Commit a delivery: its one-row ledger file, written atomically."""
    filtered = entry.get("rows_filtered") or 0
    if entry["rows_received"] != entry["rows_loaded"] + entry["rows_rejected"] + filtered:
        raise AssertionError(
            f"delivery {entry['delivery_id']}: rows received {entry['rows_received']} != "
            f"loaded {entry['rows_loaded']} + rejected {entry['rows_rejected']}"
            f" + filtered {filtered}"
        )
    frame = pl.DataFrame([entry], schema=LEDGER_SCHEMA)
    write_parquet_atomic(frame, home.ledger_file(entry["delivery_id"]))


def ledger(home: Home) -> pl.DataFrame:
    """Every ledger entry, in delivery order."""
    files = sorted(home.ledger.glob("delivery=*.parquet"))
    if not files:
        return pl.DataFrame(schema=LEDGER_SCHEMA)
    # Entries written before a column existed read it as null.
    scan = pl.scan_parquet(files, schema=LEDGER_SCHEMA, missing_columns="insert")
    return scan.collect().sort("delivery_id")


def fsync_tree(path: Path) -> None:
    """Flush a delivery's files before it is renamed into place and committed."""
    for item in path.rglob("*"):
        if item.is_file():
            with open(item, "rb") as fh:
                os.fsync(fh.fileno())
