"""Who is asking: the signed-in user's role and what the role is bound to.

Every read of published data goes through the query layer, which asks `current()` for
the principal of the request and scopes the answer to it (see `policy`). The principal
lives in a context variable rather than being passed down through every page: the
dashboard sets it once per script run after sign-in, a report or CLI command sets it
around its work with `acting_as`, and a read with nobody set is refused rather than
answered in full.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"  # everything, plus the audit log and user setup
    MANAGER = "manager"  # everything: all locations, providers and data quality
    LOCATION_MANAGER = "location_manager"  # everything about their own locations
    PHYSICIAN = "physician"  # own provider detail; peers only as an anonymous distribution
    BOARD = "board"  # practice and location aggregates, small cells suppressed


class AccessDenied(PermissionError):
    """The principal's role does not allow this read. The message names the role and the
    kind of data refused, never the data."""


@dataclass(frozen=True)
class Principal:
    username: str
    role: Role | None  # None: a user with no role sees nothing
    provider_id: str | None = None  # physicians: the provider they are
    location_ids: frozenset[str] = field(default_factory=frozenset)  # location managers

    def __post_init__(self) -> None:
        if self.role is Role.PHYSICIAN and not self.provider_id:
            raise ValueError(f"physician {self.username!r} is not bound to a provider_id")
        if self.role is Role.LOCATION_MANAGER and not self.location_ids:
            raise ValueError(f"location manager {self.username!r} has no location_ids")


_current: ContextVar[Principal | None] = ContextVar("clinicops_principal", default=None)


def current() -> Principal:
    """The principal of the read in progress; refused when nobody is signed in."""
    principal = _current.get()
    if principal is None:
        raise AccessDenied("nobody is signed in")
    return principal


def set_current(principal: Principal | None) -> None:
    """Bind the principal for the rest of this thread's work (one Streamlit script run)."""
    _current.set(principal)


@contextmanager
def acting_as(principal: Principal) -> Iterator[Principal]:
    """Bind the principal for a block: a CLI command, a report build, a test."""
    token = _current.set(principal)
    try:
        yield principal
    finally:
        _current.reset(token)
