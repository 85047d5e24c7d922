"""Where personal data stops: patient ids become keyed hashes, staff names are dropped.

A keyed HMAC (not a plain hash) is used because patient ids are short and guessable: a
plain SHA-256 of `P000123` can be reversed by hashing every candidate id. With a secret
key the same patient still gets the same `patient_key` in every delivery (so visits and
charges join), but nobody without the key can go back to the id.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
from collections.abc import Callable
from pathlib import Path

import polars as pl

from pipelines.core.home import Home
from pipelines.core.secrets import KEY_ENV

MIN_KEY_CHARS = 16

logger = logging.getLogger(__name__)


class PseudonymKeyError(RuntimeError):
    """No usable pseudonymisation key: landing refuses to run rather than leak ids."""


def key_from_env() -> bytes | None:
    """The practice's secret key from $CLINICOPS_PSEUDONYM_KEY, or None when unset."""
    value = os.environ.get(KEY_ENV, "").strip()
    if not value:
        return None
    if len(value) < MIN_KEY_CHARS:
        raise PseudonymKeyError(f"{KEY_ENV} is too short: use at least {MIN_KEY_CHARS} characters")
    return value.encode("utf-8")


def demo_key_path(home: Home) -> Path:
    return home.secrets / "pseudonym.key"


def demo_key(home: Home, log: Callable[[str], None] | None = None) -> bytes:
    """A local key for the demo practice, created once under `<home>/secrets/`.

    Only for sample data: a real practice sets the key in the environment, because a key
    stored beside the lake protects nothing once the folder is copied.
    """
    path = demo_key_path(home)
    if not path.exists():
        home.secrets.mkdir(parents=True, exist_ok=True)
        home.secrets.chmod(0o700)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_hex(32))
        message = (
            f"created a local demo pseudonymisation key at {path} "
            f"(set {KEY_ENV} for real practice data)"
        )
        (log or logger.warning)(message)
    return _read_key_file(path)


def ensure_demo_key(home: Home, log: Callable[[str], None] | None = None) -> None:
    """For `clinicops demo` only: without $CLINICOPS_PSEUDONYM_KEY, give the home a local
    key. Nothing else creates one: a key nobody chose, stored beside the lake, would let
    anyone with a copy of the home reverse every patient key by trying the ids."""
    if key_from_env() is None:
        demo_key(home, log)


MISSING_KEY_FIX = (
    f"{KEY_ENV} is not set: landing needs the practice's secret key; "
    f"run `export {KEY_ENV}=$(python -c 'import secrets; print(secrets.token_hex(32))')` "
    f"and keep the key outside the repository and the home"
)


def resolve_key(home: Home) -> bytes:
    """The key landing uses: the environment's, else a key `clinicops demo` made for this
    home, else a one-line error that says how to set one. Never creates a key."""
    key = key_from_env()
    if key is not None:
        return key
    if demo_key_path(home).exists():
        return _read_key_file(demo_key_path(home))
    raise PseudonymKeyError(MISSING_KEY_FIX)


def _read_key_file(path: Path) -> bytes:
    value = path.read_text(encoding="utf-8").strip()
    if len(value) < MIN_KEY_CHARS:
        raise PseudonymKeyError(f"{path}: key is too short")
    return value.encode("utf-8")


class Pseudonymiser:
    """Hashes ids with one key, each distinct id once: patients repeat across rows."""

    # Bounded so a file with tens of millions of distinct ids cannot grow it without end.
    CACHE_LIMIT = 2_000_000

    def __init__(self, key: bytes) -> None:
        self._key = key
        self._cache: dict[str, str] = {}

    def digest(self, value: str) -> str:
        return hmac.new(self._key, value.encode("utf-8"), hashlib.sha256).hexdigest()

    def hash_series(self, values: pl.Series) -> pl.Series:
        """The HMAC-SHA256 (hex) of every value; nulls stay null."""
        unique = values.drop_nulls().unique()
        cache = self._cache
        fresh = [v for v in unique.to_list() if v not in cache]
        if len(cache) + len(fresh) > self.CACHE_LIMIT:
            cache.clear()
            fresh = unique.to_list()
        cache.update((v, self.digest(v)) for v in fresh)
        digests = pl.Series([cache[v] for v in unique.to_list()], dtype=pl.String)
        return values.replace_strict(unique, digests, default=None, return_dtype=pl.String)
