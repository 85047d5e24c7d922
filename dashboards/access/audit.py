"""The append-only record of who read what: `<home>/audit/audit.jsonl`.

One JSON object per line: when, the event, who (username and role) and the scope the
role is bound to, plus the event's own fields (page and filters, table and rows, deck
period...). Records never carry a password or personal data: callers pass ids and counts,
and a failed sign-in names the user only when the name is a configured user (a mistyped
password in the user field must not end up in the log).

Each record holds the hash of the record before it and its own hash, so editing or
deleting a line breaks the chain where it happened and `verify` says which line. The hash
is an HMAC-SHA256 keyed with a secret ($CLINICOPS_AUDIT_KEY, else `<home>/secrets/
audit.key`, made on first use): without the key, whoever deletes or edits lines cannot
recompute the chain, as they could a plain SHA-256 one. The file
is opened with O_APPEND and written under an exclusive lock, because the dashboard's
sessions, the CLI and Dagster runs append to the same file at once and each must chain
to the line that is really last.
"""

from __future__ import annotations

import fcntl
import hashlib
import hmac
import json
import os
import secrets
import tempfile
from collections.abc import MutableSet
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from dashboards.access.principal import AccessDenied, Principal, current

HOME_ENV = "CLINICOPS_HOME"
KEY_ENV = "CLINICOPS_AUDIT_KEY"
MIN_KEY_CHARS = 32
GENESIS = "0" * 64
EVENTS = frozenset(
    {
        "login",
        "login_failed",
        "logout",
        "session_expired",
        "page_view",
        "download",
        "deck_build",
        "commentary_saved",
        "access_denied",
        "login_locked",
    }
)


def log_path(home: Path | str | None = None) -> Path:
    """The audit file of `home`, else of $CLINICOPS_HOME."""
    if home is None:
        home = os.environ.get(HOME_ENV)
        if not home:
            raise RuntimeError(f"{HOME_ENV} is not set: no home to write the audit log in")
    return Path(home) / "audit" / "audit.jsonl"


def key_path(home: Path | str | None = None) -> Path:
    return log_path(home).parent.parent / "secrets" / "audit.key"


def chain_key(home: Path | str | None = None) -> bytes:
    """The secret the chain is keyed with: $CLINICOPS_AUDIT_KEY, else the home's key
    file, created owner-only the first time (keep a copy elsewhere to verify a copy)."""
    value = os.environ.get(KEY_ENV, "").strip()
    if value:
        if len(value) < MIN_KEY_CHARS:
            raise RuntimeError(f"{KEY_ENV} is too short: use at least {MIN_KEY_CHARS} characters")
        return value.encode("utf-8")
    path = key_path(home)
    if not path.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        # Written whole under another name, then linked into place: a writer that loses
        # the race reads the winner's complete key. (Created in place, the file existed
        # empty for a moment, and a concurrent writer keyed its record with b"".)
        fd, written = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
        try:
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(32))
            os.link(written, path)
        except FileExistsError:  # another writer's key is in place: use that one
            pass
        finally:
            os.unlink(written)
    return path.read_text(encoding="utf-8").strip().encode("utf-8")


def _digest(body: dict, key: bytes) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hmac.new(key, canonical.encode("utf-8"), hashlib.sha256).hexdigest()


def _who(principal: Principal | None) -> dict:
    if principal is None:
        try:
            principal = current()
        except AccessDenied:
            return {"user": None, "role": None}
    who = {"user": principal.username, "role": principal.role and str(principal.role)}
    if principal.provider_id:
        who["provider_id"] = principal.provider_id
    if principal.location_ids:
        who["location_ids"] = sorted(principal.location_ids)
    return who


def _last_hash(fd: int) -> str:
    """The `hash` of the file's last record (read backwards: the log only grows)."""
    size = os.lseek(fd, 0, os.SEEK_END)
    if size == 0:
        return GENESIS
    chunk = 4096
    tail = b""
    position = size
    while position > 0:
        step = min(chunk, position)
        position -= step
        tail = os.pread(fd, step, position) + tail
        lines = tail.rstrip(b"\n").split(b"\n")
        if len(lines) > 1 or position == 0:
            return json.loads(lines[-1])["hash"]
    return GENESIS


def record(
    event: str,
    *,
    home: Path | str | None = None,
    principal: Principal | None = None,
    **fields,
) -> dict:
    """Append one event, acting as `principal` (default: the current one, if any).

    The home is `home` or $CLINICOPS_HOME. Returns the record as written."""
    if event not in EVENTS:
        raise ValueError(f"unknown audit event {event!r}; known: {sorted(EVENTS)}")
    path = log_path(home)
    path.parent.mkdir(parents=True, exist_ok=True)
    body = {
        "at": datetime.now(UTC).isoformat(timespec="milliseconds"),
        "event": event,
        **_who(principal),
        **fields,
    }
    key = chain_key(home)
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        body["prev"] = _last_hash(fd)
        body["hash"] = _digest(body, key)
        line = json.dumps(body, separators=(",", ":"), default=str) + "\n"
        os.write(fd, line.encode("utf-8"))
    finally:
        os.close(fd)  # closing releases the lock
    return body


def record_once(event: str, seen: MutableSet[str], **fields) -> dict | None:
    """`record`, unless this session already recorded the same event with the same
    fields (`seen` is the session's memory): a refused page is re-run on every click and
    by the sign-in cookie's reruns, and is one refusal."""
    mark = json.dumps([event, fields], sort_keys=True, default=str)
    if mark in seen:
        return None
    seen.add(mark)
    return record(event, **fields)


@dataclass(frozen=True)
class Verdict:
    ok: bool
    records: int
    problem: str | None = None  # which line broke the chain, and how


def verify(home: Path | str | None = None) -> Verdict:
    """Walk the chain from the first record; the first broken link is reported (a chain
    recomputed without the key breaks at its first record)."""
    path = log_path(home)
    if not path.exists():
        return Verdict(True, 0)
    key = chain_key(home)
    previous = GENESIS
    count = 0
    with path.open(encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            try:
                body = json.loads(line)
                stored = body.pop("hash")
            except (ValueError, KeyError):
                return Verdict(False, count, f"line {number}: not an audit record")
            if body.get("prev") != previous:
                return Verdict(False, count, f"line {number}: does not follow line {number - 1}")
            if not hmac.compare_digest(_digest(body, key), stored):
                return Verdict(False, count, f"line {number}: edited after it was written")
            previous = stored
            count += 1
    return Verdict(True, count)


def read(home: Path | str | None = None, limit: int | None = None) -> list[dict]:
    """The newest records first (the admin page's view)."""
    path = log_path(home)
    if not path.exists():
        return []
    with path.open(encoding="utf-8") as fh:
        records = [json.loads(line) for line in fh if line.strip()]
    records.reverse()
    return records[:limit] if limit else records
