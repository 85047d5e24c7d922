"""What every pulled source shares: errors that say what is wrong, secrets, and the
atomic delivery of a fetched file into the inbox.

A fetched file is written under a hidden temporary name in its inbox folder (landing
skips hidden files), hashed while it is written, flushed, recorded in the pull ledger,
renamed into place and then marked done (ledger.py): a half file is never landed, and a
pull killed at any point is completed or undone by the next one.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from pipelines.core import faults
from pipelines.core.contracts import BY_ENTITY
from pipelines.core.home import Home
from pipelines.pull.ledger import PullLedger

Progress = Callable[[str], None]
PART_SUFFIX = ".pull-part"
_ENTITIES = sorted(BY_ENTITY, key=len, reverse=True)


class PullError(Exception):
    """A source cannot be pulled. The message names the problem (host unreachable, auth
    refused, folder missing, query error), never a secret or a row's values."""

    transient = False


class NetworkError(PullError):
    """The connection dropped or timed out: worth another attempt after a pause."""

    transient = True


@dataclass
class Outcome:
    """What one pull of a source did."""

    files: list[Path] = field(default_factory=list)
    # Why something was left for later (a file still being written, an export running).
    notes: list[str] = field(default_factory=list)


def stamp() -> str:
    """A UTC time for file names: sorts in the order deliveries were fetched."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")


def entity_folder(name: str) -> str | None:
    """The contract source of the entity a file's name names (as landing reads names)."""
    stem = name.lower().split(".", 1)[0]
    for entity in _ENTITIES:
        if stem == entity or (stem.startswith(entity) and stem[len(entity)] in "_-. "):
            return BY_ENTITY[entity].source
    return None


class Part:
    """A download in progress: a hidden temporary file, hashed as it is written."""

    def __init__(self, temp: Path, folder: str, name: str) -> None:
        self.temp = temp
        self.folder = folder
        self.name = name
        self.size = 0
        self._sha = hashlib.sha256()
        self._fh: BinaryIO = open(temp, "wb")  # noqa: SIM115 (closed by finish/discard)

    def write(self, data: bytes) -> None:
        self._fh.write(data)
        self._sha.update(data)
        self.size += len(data)

    @property
    def sha256(self) -> str:
        return self._sha.hexdigest()

    def finish(self) -> None:
        if not self._fh.closed:
            self._fh.flush()
            os.fsync(self._fh.fileno())
            self._fh.close()

    def written_elsewhere(self) -> Path:
        """Hand the temporary path to a writer of its own (Parquet); `adopt` after it."""
        self._fh.close()
        return self.temp

    def adopt(self) -> None:
        """Take size and checksum from what another writer put at the temporary path."""
        self.size = self.temp.stat().st_size
        with open(self.temp, "rb") as fh:
            self._sha = hashlib.file_digest(fh, "sha256")
            os.fsync(fh.fileno())

    def discard(self) -> None:
        if not self._fh.closed:
            self._fh.close()
        self.temp.unlink(missing_ok=True)


@dataclass
class PullContext:
    """One source's pull: where files go, its ledger, its secrets, its progress lines."""

    name: str
    home: Home
    inbox: Path
    ledger: PullLedger
    say: Progress

    def secret(self, ref: str) -> str:
        """The value an `env:NAME` or `file:NAME` reference names (config.Secret)."""
        kind, _, key = ref.partition(":")
        if kind == "env":
            value = os.environ.get(key)
            if not value:
                raise PullError(f"{self.name}: the secret {ref} is not set in the environment")
            return value
        path = self.home.secrets / key
        try:
            return path.read_text(encoding="utf-8").strip("\n")
        except FileNotFoundError:
            raise PullError(f"{self.name}: the secret {ref} is missing: no {path}") from None

    def secret_path(self, name: str) -> Path:
        return self.home.secrets / name

    def part(self, folder: str, name: str) -> Part:
        """Start writing `name` into `inbox/<folder>/` under a hidden temporary name."""
        target = self.inbox / folder
        target.mkdir(parents=True, exist_ok=True)
        return Part(target / f".{self.name}.{name}{PART_SUFFIX}", folder, name)

    def commit(
        self,
        part: Part,
        item: str,
        *,
        mtime: float | None = None,
        pending: dict[str, str] | None = None,
    ) -> Path:
        """Put a finished download in place and record it; returns its inbox path."""
        part.finish()
        final = self._free_name(self.inbox / part.folder, part.name)
        self.ledger.stage(self.name, item, final, part.sha256, part.size, mtime, pending)
        faults.point("pull.staged")
        os.replace(part.temp, final)
        _fsync_dir(final.parent)
        faults.point("pull.renamed")
        self.ledger.done(self.name, final)
        return final

    def recover(self) -> list[str]:
        """Finish or undo what a killed pull of this source left; lines for the log."""
        lines = []
        for path, sha in self.ledger.staged(self.name):
            if path.exists() and _sha256(path) == sha:
                self.ledger.done(self.name, path)
                lines.append(f"completed the interrupted fetch of {path.name}")
            else:
                self.ledger.drop(self.name, path)
        if self.inbox.is_dir():
            for leftover in self.inbox.rglob(f".{self.name}.*{PART_SUFFIX}"):
                leftover.unlink(missing_ok=True)
                lines.append(f"removed the half download {leftover.name}")
        return lines

    def _free_name(self, folder: Path, name: str) -> Path:
        """`name`, or `stem_<time>.ext` when a file of that name is already there."""
        path = folder / name
        stem, dot, ext = name.partition(".")
        while path.exists():
            path = folder / f"{stem}_{stamp()}{dot}{ext}"
        return path


def _sha256(path: Path) -> str:
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
