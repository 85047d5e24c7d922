"""The practice's one configuration file, validated when it is read (never at import).

Secrets never live here: the pseudonymisation key and mail passwords come from the
environment, and the passwords and keys of pulled sources from the environment or
`<home>/secrets/` (see `Secret`). An example with every option lives at `clinicops.example.yaml`.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from pipelines.core.contracts import BY_ENTITY, SOURCES
from pipelines.core.mapping_config import FileFormat, Route

CONFIG_ENV = "CLINICOPS_CONFIG"
# Ready mappings for common export shapes (docs/mapping.md), named in `presets:`.
PRESETS_DIR = Path(__file__).resolve().parents[2] / "mappings"


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
    # The mapping language (pipelines/core/mapping_config.py, docs/mapping.md): file patterns
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
    # The month the fiscal year starts in (1 = January): the year and quarter grains of
    # marts.kpi_values are the fiscal year and its quarters (KPI_SPEC.md).
    fiscal_year_start_month: int = Field(default=1, ge=1, le=12)


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


Role = Literal["admin", "manager", "location_manager", "physician", "board"]
ROLES: tuple[str, ...] = get_args(Role)
BCRYPT_HASH = r"^\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}$"


class User(_Strict):
    """One dashboard user: a role and what it is bound to, and a bcrypt hash (never the
    password). `role: null` is allowed and sees nothing, so access can be withdrawn
    without deleting the user's history in the audit log."""

    role: Role | None = None
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


# --- Pulled sources (docs/sources.md) ------------------------------------------------

# A secret is named, never written: `env:NAME` reads $NAME, `file:NAME` reads
# <home>/secrets/NAME. A config file is often kept in version control; its secrets are not.
SECRET_REF = r"^(env:[A-Za-z_][A-Za-z0-9_]*|file:[A-Za-z0-9][A-Za-z0-9._-]*)$"
Secret = Annotated[str, Field(pattern=SECRET_REF)]
PULL_NAME = r"^[a-z][a-z0-9_]*$"


class _PullSource(_Strict):
    # Minutes between two polls of this source's Dagster sensor.
    interval_minutes: float = Field(default=15, gt=0)
    # Inbox sub-folder the fetched files go into, i.e. the source whose mapping applies.
    # Default: the contract source of the entity the file's name names (FHIR: `fhir`).
    folder: str | None = Field(default=None, pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
    # Attempts after a network error (dropped connection, timeout), with backoff.
    retries: int = Field(default=3, ge=0, le=10)


class SftpSource(_PullSource):
    """A vendor's SFTP drop: new files under `remote_dir` that match `patterns`."""

    kind: Literal["sftp"]
    host: str
    port: int = Field(default=22, ge=1, le=65535)
    user: str
    key: Secret | None = None  # a private key (OpenSSH format)
    password: Secret | None = None
    # The server's host key, as an OpenSSH known_hosts file in <home>/secrets/: an
    # unknown or changed host key is refused, never trusted on first use.
    known_hosts: str = Field(default="known_hosts", pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    remote_dir: str = "."
    patterns: list[str] = Field(default_factory=lambda: ["*"], min_length=1)
    # After a verified download the file is moved here on the server (optional).
    archive_dir: str | None = None
    # A file whose size or modification time changes across this wait is still being
    # written: it is left for the next poll.
    settle_seconds: float = Field(default=5, ge=0)
    timeout_seconds: float = Field(default=30, gt=0)

    @model_validator(mode="after")
    def _credentials(self) -> SftpSource:
        if not (self.key or self.password):
            raise ValueError("an sftp source needs `key` or `password` (env:NAME or file:NAME)")
        return self


class SqlEntity(_Strict):
    """One entity read by one SELECT whose column names are the contract's."""

    query: str
    # A column the query returns that only grows (an update time, an id): when set, a
    # poll reads only rows above the highest value fetched before.
    watermark: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")


SQL_DIALECTS = {"postgresql": "postgres", "mysql": "mysql", "mariadb": "mysql"}


class SqlSource(_PullSource):
    """A practice-management database (or replica), read only, one query per entity."""

    kind: Literal["sql"]
    # SQLAlchemy URL without the password, e.g. postgresql+psycopg://reader@db:5432/pm
    # or mysql+pymysql://reader@db:3306/openemr.
    url: str
    password: Secret | None = None
    # A preset of queries for a known system: `openemr` reads mappings/sql/openemr.yaml; a
    # path reads that file. Entities below replace the preset's of the same name.
    preset: str | None = None
    entities: dict[str, SqlEntity] = Field(default_factory=dict)
    # Rows read per round trip; a result is streamed, never held whole.
    fetch_rows: int = Field(default=50_000, ge=1)
    timeout_seconds: float = Field(default=30, gt=0)

    @model_validator(mode="before")
    @classmethod
    def _with_preset(cls, data: Any) -> Any:
        if not isinstance(data, dict) or not data.get("preset"):
            return data
        preset = str(data["preset"])
        path = (
            Path(preset)
            if "/" in preset or preset.endswith(".yaml")
            else (PRESETS_DIR / "sql" / f"{preset}.yaml")
        )
        try:
            loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except FileNotFoundError:
            raise ValueError(f"preset {preset!r}: {path} not found") from None
        # A preset may carry entities of a newer contract set (providers.csv, say): it
        # reads only those this version knows. Entities the config names are checked.
        known = {k: v for k, v in (loaded.get("entities") or {}).items() if k in BY_ENTITY}
        entities = {**known, **(data.get("entities") or {})}
        return {**data, "entities": entities}

    @model_validator(mode="after")
    def _read_only_selects(self) -> SqlSource:
        dialect = self.dialect
        if "@" in self.url and ":" in self.url.split("://", 1)[-1].split("@", 1)[0]:
            raise ValueError("the url carries a password: name it in `password` instead")
        if not self.entities:
            raise ValueError("a sql source needs `entities` (or a `preset`)")
        for entity, spec in self.entities.items():
            if entity not in BY_ENTITY:
                raise ValueError(f"unknown entity {entity!r}")
            problem = select_problem(spec.query, dialect)
            if problem:
                raise ValueError(f"{entity}: {problem}")
        return self

    @property
    def dialect(self) -> str:
        scheme = self.url.split("://", 1)[0].split("+", 1)[0].lower()
        if scheme not in SQL_DIALECTS:
            raise ValueError(
                f"url scheme {scheme!r} is not supported; use one of {sorted(SQL_DIALECTS)}"
            )
        return SQL_DIALECTS[scheme]


def select_problem(sql: str, dialect: str) -> str | None:
    """Why a statement is not one plain SELECT (None when it is): parsed, never run.

    A query that writes, locks rows, selects INTO a table or holds several statements is
    refused when the config is read, before any connection is opened.
    """
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import ParseError

    try:
        statements = [s for s in sqlglot.parse(sql, read=dialect) if s is not None]
    except ParseError as exc:
        return f"the query does not parse: {str(exc).splitlines()[0]}"
    if len(statements) != 1:
        return f"give exactly one statement, not {len(statements)}"
    (statement,) = statements
    if not isinstance(statement, exp.Query):
        return f"only a SELECT is allowed, not {statement.key.upper()}"
    forbidden = (
        exp.Insert,
        exp.Update,
        exp.Delete,
        exp.Merge,
        exp.Create,
        exp.Drop,
        exp.Command,
        exp.Into,
        exp.Lock,
        exp.Alter,
        exp.TruncateTable,
    )
    for node in statement.walk():
        if isinstance(node, forbidden):
            return f"only a plain SELECT is allowed: it contains {node.key.upper()}"
    return None


class FhirAuth(_Strict):
    """How the client proves itself: nothing, a bearer token, or SMART backend services
    (OAuth client credentials with a JWT signed by the practice's private key)."""

    kind: Literal["none", "bearer", "smart"] = "none"
    token: Secret | None = None  # bearer
    token_url: str | None = None  # smart
    client_id: str | None = None  # smart
    private_key: Secret | None = None  # smart: PEM
    algorithm: Literal["RS384", "ES384"] = "RS384"
    key_id: str | None = None  # the JWK `kid` the server knows the public key by
    scope: str = "system/*.read"

    @model_validator(mode="after")
    def _complete(self) -> FhirAuth:
        if self.kind == "bearer" and not self.token:
            raise ValueError("bearer auth needs `token` (env:NAME or file:NAME)")
        if self.kind == "smart":
            missing = [n for n in ("token_url", "client_id", "private_key") if not getattr(self, n)]
            if missing:
                raise ValueError(f"smart auth needs {', '.join(missing)}")
        return self


class FhirSource(_PullSource):
    """A FHIR server's bulk data `$export` (HL7 Bulk Data Access IG v2)."""

    kind: Literal["fhir"]
    base_url: str
    group_id: str | None = None  # group-level export; without it, system-level
    types: list[str] = Field(default_factory=list)  # _type; empty: every type
    auth: FhirAuth = FhirAuth()
    # How long one poll waits for the server to finish an export; an export still
    # running then is resumed (never started again) by the next poll.
    max_wait_seconds: float = Field(default=300, ge=0)
    timeout_seconds: float = Field(default=60, gt=0)


PullSource = Annotated[SftpSource | SqlSource | FhirSource, Field(discriminator="kind")]


class Pull(_Strict):
    # Inbox folder fetched files are written to (relative: from the home); default
    # <home>/inbox. The Dagster landing assets read it with the other inboxes.
    inbox: str | None = None
    sources: dict[str, PullSource] = Field(default_factory=dict)

    @field_validator("sources")
    @classmethod
    def _names(cls, v: dict[str, PullSource]) -> dict[str, PullSource]:
        bad = [n for n in v if not re.match(PULL_NAME, n)]
        if bad:
            raise ValueError(f"source names must be lower-case letters, digits and _: {bad}")
        return v


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
    # Sources clinicops fetches from itself (SFTP, read-only SQL, FHIR bulk $export);
    # docs/sources.md. Their secrets come from the environment or <home>/secrets/.
    pull: Pull = Pull()

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
