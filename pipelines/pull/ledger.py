"""The pull ledger: what each source fetched, so a file or a row is fetched once.

One SQLite file in the home (`<home>/pull/ledger.sqlite`). A fetched file is committed
in three steps, so a pull killed at any moment is finished or undone by the next one:

1. the download is written to a hidden temporary name beside its final name (landing
   never reads hidden files) and its row is written `staged`, with the state it moves
   forward (a SQL watermark, a FHIR export time);
2. the temporary file is renamed to its final name;
3. the row becomes `done` and its state is applied, in one transaction.

`recover` (run before every pull of a source) completes a staged row whose final file
exists with the staged checksum, and otherwise removes the row and the temporary file.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from pipelines.core.home import Home

SCHEMA = """
create table if not exists fetched (
    source text not null, item text not null, size integer, mtime real,
    sha256 text not null, path text not null, fetched_at text not null,
    state text not null, pending text,
    primary key (source, path));
create table if not exists source_state (
    source text not null, key text not null, value text not null,
    primary key (source, key));
create table if not exists attempts (
    source text not null, started_at text not null, finished_at text not null,
    ok integer not null, files integer not null, error text);
"""


class SourceBusy(RuntimeError):
    """Another pull of the same source is running (the sensor and a person, say)."""


def folder(home: Home) -> Path:
    return home.root / "pull"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class Attempt:
    started_at: str
    finished_at: str
    ok: bool
    files: int
    error: str | None


class PullLedger:
    """The ledger of one home; every write is its own transaction."""

    def __init__(self, home: Home) -> None:
        folder(home).mkdir(parents=True, exist_ok=True)
        # isolation_level=None: autocommit, with explicit transactions where two writes
        # must land together.
        self._db = sqlite3.connect(folder(home) / "ledger.sqlite", timeout=30, isolation_level=None)
        self._db.execute("pragma journal_mode=wal")
        self._db.execute("pragma synchronous=full")
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        self._db.close()

    def is_fetched(self, source: str, item: str, size: int, mtime: float) -> bool:
        row = self._db.execute(
            "select 1 from fetched where source=? and item=? and size=? and mtime=? "
            "and state='done'",
            (source, item, size, mtime),
        ).fetchone()
        return row is not None

    def last_sha256(self, source: str, item: str) -> str | None:
        row = self._db.execute(
            "select sha256 from fetched where source=? and item=? and state='done' "
            "order by fetched_at desc, rowid desc limit 1",
            (source, item),
        ).fetchone()
        return row[0] if row else None

    def stage(
        self,
        source: str,
        item: str,
        path: Path,
        sha256: str,
        size: int,
        mtime: float | None = None,
        pending: dict[str, str] | None = None,
    ) -> None:
        self._db.execute(
            "insert or replace into fetched values (?,?,?,?,?,?,?,'staged',?)",
            (source, item, size, mtime, sha256, str(path), _now(), json.dumps(pending or {})),
        )

    def done(self, source: str, path: Path) -> None:
        with self._transaction():
            row = self._db.execute(
                "select pending from fetched where source=? and path=?", (source, str(path))
            ).fetchone()
            for key, value in json.loads(row[0] or "{}").items():
                self._set(source, key, value)
            self._db.execute(
                "update fetched set state='done', pending=null where source=? and path=?",
                (source, str(path)),
            )

    def staged(self, source: str) -> list[tuple[Path, str]]:
        rows = self._db.execute(
            "select path, sha256 from fetched where source=? and state='staged'", (source,)
        )
        return [(Path(p), sha) for p, sha in rows]

    def drop(self, source: str, path: Path) -> None:
        self._db.execute("delete from fetched where source=? and path=?", (source, str(path)))

    def files(self, source: str) -> list[str]:
        rows = self._db.execute(
            "select path from fetched where source=? and state='done' order by rowid", (source,)
        )
        return [r[0] for r in rows]

    def get(self, source: str, key: str) -> str | None:
        row = self._db.execute(
            "select value from source_state where source=? and key=?", (source, key)
        ).fetchone()
        return row[0] if row else None

    def put(self, source: str, key: str, value: str | None) -> None:
        if value is None:
            self._db.execute("delete from source_state where source=? and key=?", (source, key))
        else:
            self._set(source, key, value)

    def _set(self, source: str, key: str, value: str) -> None:
        self._db.execute("insert or replace into source_state values (?,?,?)", (source, key, value))

    def record_attempt(
        self, source: str, started_at: str, ok: bool, files: int, error: str | None
    ) -> None:
        self._db.execute(
            "insert into attempts values (?,?,?,?,?,?)",
            (source, started_at, _now(), int(ok), files, error),
        )

    def last_attempt(self, source: str, *, ok: bool | None = None) -> Attempt | None:
        where = "" if ok is None else f" and ok={int(ok)}"
        row = self._db.execute(
            "select started_at, finished_at, ok, files, error from attempts "
            f"where source=?{where} order by rowid desc limit 1",
            (source,),
        ).fetchone()
        return Attempt(row[0], row[1], bool(row[2]), row[3], row[4]) if row else None

    def sources(self) -> list[str]:
        """Every source that was ever attempted, by name."""
        rows = self._db.execute("select distinct source from attempts order by source")
        return [r[0] for r in rows]

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        self._db.execute("begin immediate")
        try:
            yield
        except BaseException:
            self._db.execute("rollback")
            raise
        self._db.execute("commit")


def write_status(home: Home, ledger: PullLedger) -> Path:
    """`<home>/pull/status.json`: per source, its last attempt and last success.

    A plain file, so that what reports on the practice (the weekly digest's banner, a
    monitoring check) can tell a failing source without importing the pull code.
    """
    status = {}
    for source in ledger.sources():
        last = ledger.last_attempt(source)
        good = ledger.last_attempt(source, ok=True)
        assert last is not None
        status[source] = {
            "ok": last.ok,
            "last_attempt": last.finished_at,
            "last_success": good.finished_at if good else None,
            "files_fetched_last": last.files,
            "error": last.error,
        }
    path = folder(home) / "status.json"
    temp = path.with_name(f".{path.name}.tmp")
    temp.write_text(json.dumps(status, indent=2), encoding="utf-8")
    temp.replace(path)
    return path


@contextlib.contextmanager
def source_lock(home: Home, source: str) -> Iterator[None]:
    """Held while one source is pulled; a second pull of it is refused, not queued."""
    folder(home).mkdir(parents=True, exist_ok=True)
    with open(folder(home) / f"{source}.lock", "a+") as fh:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SourceBusy(f"{source}: another pull of this source is running") from None
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def started() -> str:
    return _now()
