"""Server-side sessions and sign-in throttling, kept in `<home>/secrets/sessions.sqlite`.

The browser holds only a random session id (its SHA-256 is what is stored), so the
server can end a session: signing out, a password reset, a role change and a user's
removal end every session of that user at once. A session also ends after
`access.session_idle_minutes` without activity and `access.session_max_hours` after it
began, however active. Each password sign-in starts a new id (the old one is ended), so
an id seen before sign-in is never the signed-in one.

A session is bound to the user's record as it was at sign-in (role, binding, password
hash): if any of it changes, by `clinicops users` or by an edit of the config file, the
session no longer resumes.

Failed sign-ins are counted per username and per client address: from the
`BACKOFF_AFTER`-th failure on, each further attempt waits twice as long as the last, and
`LOCK_AFTER` failures within `WINDOW_SECONDS` lock the name or address for
`LOCK_SECONDS`. SQLite serialises the writers (one per dashboard session and the CLI).
"""

from __future__ import annotations

import hashlib
import json
import secrets
import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

from pipelines.core.config import User
from pipelines.core.home import Home

BACKOFF_AFTER = 3
LOCK_AFTER = 5
WINDOW_SECONDS = 15 * 60
LOCK_SECONDS = 15 * 60

_SCHEMA = """
create table if not exists sessions (
    id_hash text primary key, username text not null, fingerprint text not null,
    created real not null, last_seen real not null);
create index if not exists sessions_user on sessions (username);
create table if not exists failures (
    subject text primary key, count integer not null, first_at real not null,
    last_at real not null, locked_until real not null default 0);
"""


def store_path(home: Home) -> Path:
    return home.secrets / "sessions.sqlite"


@contextmanager
def _db(home: Home) -> Iterator[sqlite3.Connection]:
    path = store_path(home)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not path.exists():
        path.touch(mode=0o600)
    with closing(sqlite3.connect(path, timeout=10, isolation_level=None)) as con:
        con.executescript(_SCHEMA)
        con.execute("begin immediate")
        try:
            yield con
            con.execute("commit")
        except BaseException:
            con.execute("rollback")
            raise


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def fingerprint(user: User) -> str:
    """What a session is bound to: the user's role, binding and password hash."""
    canonical = json.dumps(user.model_dump(mode="json"), sort_keys=True)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


# -- sessions -----------------------------------------------------------------------------


def start(home: Home, username: str, user: User, replaces: str | None = None) -> str:
    """A new session for a password sign-in; returns its id (shown to the browser only)."""
    token = secrets.token_urlsafe(32)
    now = time.time()
    with _db(home) as con:
        if replaces:
            con.execute("delete from sessions where id_hash = ?", [_hash(replaces)])
        con.execute(
            "insert into sessions values (?, ?, ?, ?, ?)",
            [_hash(token), username, fingerprint(user), now, now],
        )
    return token


@dataclass(frozen=True)
class Resumed:
    username: str | None  # whose session it was (None: an id the server never issued)
    why: str | None = None  # None: live; else "idle", "expired", "changed", "unknown"


def resume(
    home: Home, token: str | None, users: dict[str, User], idle_s: float, max_s: float
) -> Resumed:
    """The user of a live session, touching it; otherwise why it is over (and it is
    removed, so a replay of the same id fails too)."""
    if not token:
        return Resumed(None, "unknown")
    now = time.time()
    with _db(home) as con:
        row = con.execute(
            "select username, fingerprint, created, last_seen from sessions where id_hash = ?",
            [_hash(token)],
        ).fetchone()
        if row is None:
            return Resumed(None, "unknown")
        username, bound, created, last_seen = row
        user = users.get(username)
        why = None
        if user is None or fingerprint(user) != bound:
            why = "changed"
        elif now - created > max_s:
            why = "expired"
        elif now - last_seen > idle_s:
            why = "idle"
        if why:
            con.execute("delete from sessions where id_hash = ?", [_hash(token)])
            return Resumed(username, why)
        con.execute("update sessions set last_seen = ? where id_hash = ?", [now, _hash(token)])
    return Resumed(username)


def end(home: Home, token: str | None) -> None:
    if token:
        with _db(home) as con:
            con.execute("delete from sessions where id_hash = ?", [_hash(token)])


def end_all(home: Home, username: str) -> int:
    """End every session of a user (password reset, role change, removal)."""
    if not store_path(home).exists():
        return 0
    with _db(home) as con:
        return con.execute("delete from sessions where username = ?", [username]).rowcount


# -- throttling ---------------------------------------------------------------------------


def _subjects(username: str, client: str | None) -> list[str]:
    return [f"user:{username}", f"client:{client or 'unknown'}"]


def wait_seconds(home: Home, username: str, client: str | None) -> float:
    """How long this name and address must wait before another attempt (0: now)."""
    now = time.time()
    with _db(home) as con:
        waits = [0.0]
        for subject in _subjects(username, client):
            row = con.execute(
                "select count, last_at, locked_until from failures where subject = ?",
                [subject],
            ).fetchone()
            if row is None:
                continue
            count, last_at, locked_until = row
            waits.append(locked_until - now)
            if count >= BACKOFF_AFTER:
                waits.append(last_at + 2 ** (count - BACKOFF_AFTER) - now)
    return max(waits)


def failed(home: Home, username: str, client: str | None) -> tuple[int, bool]:
    """Count a failure for the name and the address: (the higher count, whether this
    failure locked one of them)."""
    now = time.time()
    highest, locked = 0, False
    with _db(home) as con:
        for subject in _subjects(username, client):
            row = con.execute(
                "select count, first_at from failures where subject = ?", [subject]
            ).fetchone()
            count = 1 if row is None or now - row[1] > WINDOW_SECONDS else row[0] + 1
            first_at = now if count == 1 else row[1]
            locks = count == LOCK_AFTER
            con.execute(
                "insert or replace into failures values (?, ?, ?, ?, ?)",
                [subject, count, first_at, now, now + LOCK_SECONDS if locks else 0],
            )
            highest, locked = max(highest, count), locked or locks
    return highest, locked


def succeeded(home: Home, username: str, client: str | None) -> None:
    """A right password clears the name's and the address's failures."""
    with _db(home) as con:
        for subject in _subjects(username, client):
            con.execute("delete from failures where subject = ?", [subject])


def expire_downloads() -> None:
    """Drop every generated download Streamlit still serves. Streamlit keeps one until
    two clean-ups after no session refers to it, and a generated download is referred
    to by none; its button's callable stays, so a new click builds it again."""
    from streamlit import runtime

    if runtime.exists():
        manager = runtime.get_instance().media_file_mgr
        manager.remove_orphaned_files()  # marks unreferenced downloads
        manager.remove_orphaned_files()  # deletes them
