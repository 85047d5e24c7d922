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
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from pipelines.contracts import BY_ENTITY, SOURCES
from pipelines.mapping_config import FileFormat, Route

CONFIG_ENV = "CLINICOPS_CONFIG"
# Ready mappings for common export shapes (docs/mapping.md), named in `presets:`.
PRESETS_DIR = Path(__file__).resolve().parent.parent / "mappings"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SourceConfig(_Strict):
    """One source system: how to read it, how its columns map, which files are snapshots."""

    format: FileFormat = FileFormat()
    # entity -> {vendor column name: contract column name}; names are matched after
    # trimming and ignoring case, like contract names themselves.
    mapping: dict[str, dict[str, str]] = Field(default_factory=dict)
    # Entities this source delivers as full snapshots: a key missing from the newest
    # delivery is marked deleted (never erased).
    snapshot: list[str] = Field(default_factory=list)
    # The mapping language (pipelines/mapping_config.py, docs/mapping.md): file patterns
    # to entities, with row filters, constants, value maps, derived columns and formats.
    routes: list[Route] = Field(default_factory=list)

    @model_validator(mode="after")
    def _known_entities(self) -> SourceConfig:
        labels = [r.label for r in self.routes]
        repeated = sorted({label for label in labels if labels.count(label) > 1})
        if repeated:
            raise ValueError(
                f"routes: two routes are named {repeated[0]!r}; give each a distinct `name`"
            )
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


class Access(_Strict):
    """Who may sign in to the dashboards. Users may also live in `<home>/secrets/users.yaml`
    (written by `clinicops demo` and `clinicops users`), which keeps hashes out of a
    config file that is often kept in version control."""

    session_idle_minutes: float = Field(default=30, gt=0)
    users: dict[str, User] = Field(default_factory=dict)


class Landing(_Strict):
    # A file is taken only once its size and modification time stay unchanged this long.
    settle_seconds: float = Field(default=1.0, ge=0, le=60)


class Config(_Strict):
    practice: Practice = Practice()
    landing: Landing = Landing()
    # Preset mappings merged in when the file is read (see `with_presets`).
    presets: list[str] = Field(default_factory=list)
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


def with_presets(data: dict, base: Path) -> dict:
    """The config with each preset's routes merged in (formats belong to each route).

    A preset is a config file holding `sources:` only: a name (`kaggle_no_shows`) is read
    from the repository's `mappings/` folder, a path relative to the config file.
    """
    if not isinstance(data, dict) or not data.get("presets"):
        return data
    merged = {**data, "sources": {k: dict(v or {}) for k, v in (data.get("sources") or {}).items()}}
    for name in data["presets"]:
        named = Path(name).suffix == "" and "/" not in name
        path = PRESETS_DIR / f"{name}.yaml" if named else base / name
        try:
            preset = read_yaml(path.read_text(encoding="utf-8")) or {}
        except FileNotFoundError:
            known = ", ".join(sorted(p.stem for p in PRESETS_DIR.glob("*.yaml")))
            raise ValueError(f"presets: no preset {name!r} (known: {known})") from None
        for source, settings in (preset.get("sources") or {}).items():
            target = merged["sources"].setdefault(source, {})
            target["routes"] = [*(target.get("routes") or []), *(settings.get("routes") or [])]
            for key in ("mapping", "snapshot"):
                if key in settings and key not in target:
                    target[key] = settings[key]
    return merged


def _explain(exc: ValidationError) -> str:
    """One line per problem, each naming its config key: `sources.billing.routes.0.where`."""
    lines = []
    for error in exc.errors():
        key = ".".join(str(part) for part in error["loc"] if not str(part).startswith("function-"))
        message = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            message = "unknown key (a typo?)"
        lines.append(f"{key}: {message}" if key else message)
    return "; ".join(dict.fromkeys(lines))


class _Loader(yaml.SafeLoader):
    """YAML with 1.2's booleans: only true/false. Under YAML 1.1 a value map's `Yes`, `No`,
    `Y`, `N`, `on` and `off` would turn into booleans, and `yes: no_show` would never match
    the file's "Yes"."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regex) for tag, regex in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool",
    re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)


def read_yaml(text: str):
    return yaml.load(text, Loader=_Loader)  # noqa: S506 (a SafeLoader subclass)


class ConfigError(ValueError):
    """The configuration file is missing or invalid; the message names the file."""


def load_config(path: Path | None = None) -> Config:
    """Read the config from `path`, else $CLINICOPS_CONFIG, else the defaults."""
    if path is None and os.environ.get(CONFIG_ENV):
        path = Path(os.environ[CONFIG_ENV])
    if path is None:
        return Config()
    try:
        data = read_yaml(path.read_text(encoding="utf-8")) or {}
        return Config.model_validate(with_presets(data, path.parent))
    except FileNotFoundError:
        raise ConfigError(f"{path}: configuration file not found") from None
    except ValidationError as exc:
        raise ConfigError(f"{path}: invalid configuration: {_explain(exc)}") from None
    except (yaml.YAMLError, ValueError) as exc:
        raise ConfigError(f"{path}: invalid configuration: {exc}") from None
