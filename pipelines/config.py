"""The practice's one configuration file, validated when it is read (never at import).

Secrets never live here: the pseudonymisation key and mail passwords come from the
environment. An example with every option lives at `clinicops.example.yaml`.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from pipelines.contracts import BY_ENTITY, SOURCES

CONFIG_ENV = "CLINICOPS_CONFIG"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FileFormat(_Strict):
    """How a source's files are read when they are not plain UTF-8 comma CSV."""

    delimiter: str = ","
    encoding: str = "utf-8"
    sheet: str | None = None  # XLSX: the sheet to read; default the first

    @field_validator("delimiter")
    @classmethod
    def _one_char(cls, v: str) -> str:
        if len(v) != 1:
            raise ValueError("delimiter must be a single character")
        return v


class SourceConfig(_Strict):
    """One source system: how to read it, how its columns map, which files are snapshots."""

    format: FileFormat = FileFormat()
    # entity -> {vendor column name: contract column name}; names are matched after
    # trimming and ignoring case, like contract names themselves.
    mapping: dict[str, dict[str, str]] = Field(default_factory=dict)
    # Entities this source delivers as full snapshots: a key missing from the newest
    # delivery is marked deleted (never erased).
    snapshot: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _known_entities(self) -> SourceConfig:
        for entity in [*self.mapping, *self.snapshot]:
            if entity not in BY_ENTITY:
                raise ValueError(f"unknown entity {entity!r}")
        for entity, mapping in self.mapping.items():
            names = set(BY_ENTITY[entity].names)
            for vendor, target in mapping.items():
                if target not in names:
                    raise ValueError(
                        f"{entity}: {vendor!r} maps to {target!r}, which is not a column"
                    )
        return self


class TargetOverride(_Strict):
    """A practice's own band for a KPI, replacing the published default."""

    low: float | None = None
    high: float | None = None
    direction: Literal["higher_is_better", "lower_is_better"] | None = None


class Practice(_Strict):
    name: str = "Sample Family Practice"
    # The weekly schedule runs at Monday 05:00 in this timezone.
    timezone: str = "America/Chicago"


class AlertRule(_Strict):
    """Alert when a KPI's last complete week is past a threshold, on enough volume.

    Without a threshold the KPI's target band (kpi_targets) is the line. An alert fires
    once, and again only after the KPI has come back inside the line.
    """

    kpi: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    scope: Literal["practice", "location"] = "practice"
    threshold: float | None = None
    # Which side of the threshold alerts; with no threshold it comes from the target.
    direction: Literal["above", "below"] | None = None
    # The week counts only if the KPI's denominator (its count, for a count) reaches this.
    min_volume: float = Field(default=0, ge=0)

    @model_validator(mode="after")
    def _threshold_with_direction(self) -> AlertRule:
        if (self.threshold is None) != (self.direction is None):
            raise ValueError(f"alert on {self.kpi}: give threshold and direction together")
        return self


class Alerts(_Strict):
    """The weekly digest: who gets it, where its links point, and the alert rules.

    SMTP settings and password come from the environment (CLINICOPS_SMTP_*), never here.
    """

    recipients: list[str] = Field(default_factory=list)
    sender: str = "clinicops@localhost"
    # Base address of the dashboard for the digest's links; CLINICOPS_DASHBOARD_URL wins.
    dashboard_url: str = "http://localhost:8501"
    rules: list[AlertRule] = Field(default_factory=list)

    @field_validator("recipients")
    @classmethod
    def _addresses(cls, v: list[str]) -> list[str]:
        bad = [a for a in v if "@" not in a]
        if bad:
            raise ValueError(f"not e-mail addresses: {bad}")
        return v


class Reports(_Strict):
    # Provider ids on the board deck's productivity chart; off, it shows ranks only.
    deck_provider_ids: bool = False


ROLES = ("admin", "manager", "location_manager", "physician", "board")
BCRYPT_HASH = r"^\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}$"


class User(_Strict):
    """One dashboard user: a role and what it is bound to, and a bcrypt hash (never the
    password). `role: null` is allowed and sees nothing, so access can be withdrawn
    without deleting the user's history in the audit log."""

    role: Literal[ROLES] | None = None
    provider_id: str | None = None  # physicians
    location_ids: list[str] = Field(default_factory=list)  # location managers
    password_hash: str = Field(pattern=BCRYPT_HASH)

    @model_validator(mode="after")
    def _bound(self) -> User:
        if self.role == "physician" and not self.provider_id:
            raise ValueError("a physician needs a provider_id")
        if self.role == "location_manager" and not self.location_ids:
            raise ValueError("a location manager needs location_ids")
        return self


USERNAME = re.compile(r"[a-z][a-z0-9._-]{1,63}")  # shown in pages and logs: no markup


class Access(_Strict):
    """Who may sign in to the dashboards. Users may also live in `<home>/secrets/users.yaml`
    (written by `clinicops demo` and `clinicops users`), which keeps hashes out of a
    config file that is often kept in version control."""

    session_idle_minutes: float = Field(default=30, gt=0)
    session_max_hours: float = Field(default=12, gt=0)  # however active, then sign in again
    users: dict[str, User] = Field(default_factory=dict)

    @field_validator("users")
    @classmethod
    def _plain_names(cls, v: dict[str, User]) -> dict[str, User]:
        odd = [name for name in v if not USERNAME.fullmatch(name)]
        if odd:
            raise ValueError(
                f"usernames {odd!r}: use 2-64 lowercase letters, digits, '.', '_' or '-'"
            )
        return v


class Config(_Strict):
    practice: Practice = Practice()
    sources: dict[str, SourceConfig] = Field(default_factory=dict)
    targets: dict[str, TargetOverride] = Field(default_factory=dict)
    alerts: Alerts = Alerts()
    reports: Reports = Reports()
    access: Access = Access()

    @field_validator("sources")
    @classmethod
    def _known_sources(cls, v: dict[str, SourceConfig]) -> dict[str, SourceConfig]:
        unknown = set(v) - set(SOURCES)
        if unknown:
            raise ValueError(f"unknown sources {sorted(unknown)}; known: {list(SOURCES)}")
        return v

    def source(self, name: str) -> SourceConfig:
        return self.sources.get(name, SourceConfig())

    def is_snapshot(self, source: str, entity: str) -> bool:
        return entity in self.source(source).snapshot


class ConfigError(ValueError):
    """The configuration file is missing or invalid; the message names the file."""


def load_config(path: Path | None = None) -> Config:
    """Read the config from `path`, else $CLINICOPS_CONFIG, else the defaults."""
    if path is None and os.environ.get(CONFIG_ENV):
        path = Path(os.environ[CONFIG_ENV])
    if path is None:
        return Config()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return Config.model_validate(data)
    except FileNotFoundError:
        raise ConfigError(f"{path}: configuration file not found") from None
    except (yaml.YAMLError, ValueError) as exc:
        raise ConfigError(f"{path}: invalid configuration: {exc}") from None
