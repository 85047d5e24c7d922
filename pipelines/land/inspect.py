"""`clinicops inspect`: profile a vendor's export and draft the mapping that lands it.

For each file: its encoding, delimiter, header line and row count; per column the
inferred type, the share of empty values, the date or number format found, and the
distinct values of a column with few of them (masked where the column is personal
data). Then a guess at the entity and a draft route in the config's mapping language,
with TODO where a person must decide. Reading reuses landing's own readers.
"""

from __future__ import annotations

import codecs
import csv
import difflib
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq

from pipelines.core.config import Config, FileFormat
from pipelines.core.contracts import (
    BY_ENTITY,
    CONTRACTS,
    Contract,
    Kind,
    Privacy,
)
from pipelines.land import standard
from pipelines.land.read import (
    FORMATS,
    PERSONAL_EXTRA,
    Delivered,
    FileError,
    _normalise_name,
    read_batches,
)

SAMPLE_BYTES = 1 << 20
LOW_CARDINALITY = 12
# Candidate patterns, most specific first: the first that reads (nearly) every value wins.
DATE_PATTERNS = (
    "%Y-%m-%dT%H:%M:%SZ",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%d",
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y %I:%M %p",
    "%m/%d/%y %I:%M %p",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y",
    "%m/%d/%y",
    "%d.%m.%Y %H:%M",
    "%d.%m.%Y",
    "%d/%m/%Y",
    "%Y%m%d",
)
_TIME_DIRECTIVES = ("%H", "%I")
_MONEY = r"^\(?-?[$€£]?\s?-?\d{1,3}([,.' ]\d{3})*([.,]\d{1,2})?\)?-?$"
_PLAIN_INT = r"^[+-]?\d+$"
_PLAIN_DECIMAL = r"^[+-]?(\d+\.?\d*|\.\d+)$"
_BOOLEAN = {"y", "n", "yes", "no", "true", "false", "0", "1", "t", "f"}


@dataclass
class ColumnProfile:
    name: str  # as in the file's header
    inferred: str  # text, integer, decimal, money, date, timestamp, boolean, empty
    null_share: float
    distinct: int
    values: list[str] | None = None  # low-cardinality columns; masked when personal
    pattern: str | None = None  # date/timestamp pattern
    number: dict[str, object] = field(default_factory=dict)  # money format options
    personal: bool = False


@dataclass
class FileProfile:
    path: Path
    encoding: str
    delimiter: str | None
    header_line: int
    rows: int
    columns: list[ColumnProfile]
    entity: str | None
    matches: dict[str, str]  # contract column -> file column
    error: str | None = None
    standard: str | None = None  # `x12` or `fhir`: a standard format, landed as it is


def sniff_encoding(path: Path) -> str:
    head = path.read_bytes()[:SAMPLE_BYTES] if path.stat().st_size else b""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head)
        return "utf-8"
    except UnicodeDecodeError:
        return "cp1252"


def sniff_delimiter(path: Path, encoding: str) -> str:
    with open(path, encoding=encoding, errors="replace", newline="") as fh:
        first = fh.readline()
    counts = {d: first.count(d) for d in (",", ";", "\t", "|")}
    return max(counts, key=counts.get) if any(counts.values()) else ","


def profile(path: Path, config: Config, source: str | None = None) -> FileProfile:
    if kind := standard.format_of(path):
        return _profile_standard(path, kind)
    suffix = Delivered(path, source or "").suffix
    kind = FORMATS.get(suffix)
    encoding, delimiter = "utf-8", None
    if kind == "csv" and not path.name.lower().endswith(".gz"):
        encoding = sniff_encoding(path)
        delimiter = sniff_delimiter(path, encoding)
    fmt = FileFormat(delimiter=delimiter or ",", encoding=encoding)
    if source and source in config.sources and config.source(source).format != FileFormat():
        fmt = config.source(source).format
    try:
        with tempfile.TemporaryDirectory(prefix="clinicops-inspect-") as scratch:
            frames = list(
                read_batches(Delivered(path, source or ""), None, fmt, {}, Path(scratch), 200_000)
            )
    except FileError as exc:
        return FileProfile(path, encoding, delimiter, 1, 0, [], None, {}, str(exc))
    frame = pl.concat(frames) if frames else pl.DataFrame()
    data = [c for c in frame.columns if c not in ("_line", "_extra", "_problem")]
    originals = {_normalise_name(h): h.strip() for h in _header(path, kind, fmt)}
    frame = frame.with_columns(pl.col(data).str.strip_chars().replace("", None))
    names = [originals.get(c, c) for c in data]
    columns = [
        _profile_column(frame.get_column(c), name, False)
        for c, name in zip(data, names, strict=True)
    ]
    types = {c.name: c.inferred for c in columns}
    entity, matches = guess_entity(path.name, names, types)
    personal = _personal_columns(entity, matches)
    for col in columns:
        if col.name in personal and not col.personal:
            col.personal = True
            col.values = ["(masked)"] * len(col.values) if col.values else None
    return FileProfile(path, encoding, delimiter, 1, frame.height, columns, entity, matches)


def _profile_standard(path: Path, kind: str) -> FileProfile:
    """An X12 835 or a FHIR NDJSON file, read by the reader landing uses: it names its own
    entity and yields the contract's columns, so it needs no mapping, only a look."""
    entity = standard.entity_of(path)
    if entity is None:
        reason = standard.unknown_entity_reason(path) or "no entity for this file"
        return FileProfile(path, "utf-8", None, 1, 0, [], None, {}, reason, standard=kind)
    try:
        with tempfile.TemporaryDirectory(prefix="clinicops-inspect-") as scratch:
            frames = list(standard.read_batches(path, entity, Path(scratch), 200_000))
    except FileError as exc:
        return FileProfile(path, "utf-8", None, 1, 0, [], entity, {}, str(exc), standard=kind)
    frame = pl.concat(frames) if frames else pl.DataFrame()
    data = [c for c in frame.columns if c not in ("_line", "_extra", "_problem")]
    personal = _personal_columns(entity, {c: c for c in data})
    columns = [_profile_column(frame.get_column(c), c, c in personal) for c in data]
    matches = {c: c for c in data}
    return FileProfile(path, "utf-8", None, 1, frame.height, columns, entity, matches,
                       standard=kind)  # fmt: skip


def _header(path: Path, kind: str | None, fmt: FileFormat) -> list[str]:
    """The header as written (the readers' frames carry normalised names)."""
    if kind == "csv" and not path.name.lower().endswith(".gz"):
        with open(path, encoding=fmt.encoding, errors="replace", newline="") as fh:
            return next(csv.reader(fh, delimiter=fmt.delimiter), [])
    if kind == "parquet":
        return pq.ParquetFile(path).schema_arrow.names
    return []


def _personal_columns(entity: str | None, matches: dict[str, str]) -> set[str]:
    found = set()
    if entity:
        for col in BY_ENTITY[entity].columns:
            if col.privacy is not Privacy.NONE and col.name in matches:
                found.add(matches[col.name])
    return found


def _profile_column(values: pl.Series, name: str, personal: bool) -> ColumnProfile:
    present = values.drop_nulls()
    null_share = 1 - present.len() / values.len() if values.len() else 0.0
    distinct = present.n_unique()
    personal = personal or bool(PERSONAL_EXTRA.search(_normalise_name(name)))
    result = ColumnProfile(name, "empty", round(null_share, 4), distinct, personal=personal)
    if present.is_empty():
        return result
    sample = present.head(5000)
    if distinct <= LOW_CARDINALITY and not sample.str.contains(r"^\d{4}-\d\d-\d\d").any():
        shown = sorted(present.unique().to_list())
        result.values = ["(masked)"] * len(shown) if personal else shown
    lowered = set(sample.str.to_lowercase().unique().to_list())
    if lowered <= _BOOLEAN and distinct <= 2 and not sample.str.contains(r"^\d{2,}$").any():
        result.inferred = "boolean"
    elif sample.str.contains(_PLAIN_INT).all():
        result.inferred = "integer"
    elif sample.str.contains(_PLAIN_DECIMAL).all():
        result.inferred = "decimal"
    elif (pattern := _date_pattern(sample)) is not None:
        result.pattern = pattern
        timed = any(d in pattern for d in _TIME_DIRECTIVES)
        result.inferred = "timestamp" if timed else "date"
    elif sample.str.contains(_MONEY).all():
        result.inferred = "money"
        result.number = _number_format(sample)
    else:
        result.inferred = "text"
    return result


def _date_pattern(sample: pl.Series) -> str | None:
    for pattern in DATE_PATTERNS:
        parsed = sample.str.to_datetime(pattern, strict=False)
        if "%Y" in pattern:
            parsed = parsed.filter(parsed.dt.year() >= 1000)
        if parsed.len() and parsed.drop_nulls().len() >= 0.98 * sample.len():
            return pattern
    return None


def _number_format(sample: pl.Series) -> dict[str, object]:
    options: dict[str, object] = {}
    if sample.str.contains(r"[$€£]").any():
        options["currency"] = True
    if sample.str.contains(r"^\(.*\)$").any():
        options["parentheses"] = True
    if sample.str.contains(r",\d{1,2}\)?$").any():
        options["decimal"] = ","
        if sample.str.contains(r"\d\.\d{3}").any():
            options["thousands"] = "."
    elif sample.str.contains(r"\d,\d{3}").any():
        options["thousands"] = ","
    return options


def _squash(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


def guess_entity(
    file_name: str, header: list[str], types: dict[str, str] | None = None
) -> tuple[str | None, dict[str, str]]:
    """The entity whose columns the header matches best (its name decides first)."""
    named = Delivered(Path(file_name), "").entity
    best: tuple[int, str | None, dict[str, str]] = (0, None, {})
    for contract in CONTRACTS:
        matches = match_columns(header, contract, types)
        score = sum(1 for c in contract.required_names if c in matches)
        if contract.entity == named:
            score += 100
        if score > best[0]:
            best = (score, contract.entity, matches)
    return best[1], best[2]


# Words vendors use for a contract column (squashed: lower case, letters and digits only).
SYNONYMS = {
    "patient_id": ("patient", "chart", "mrn", "patientacct", "account", "acct"),
    "provider_id": ("provider", "doctor", "physician", "resource", "clinician"),
    "rendering_provider_id": ("provider", "renderingprovider", "doctor", "physician"),
    "location_id": ("location", "facility", "site", "clinic", "neighbourhood", "office"),
    "appointment_type": ("appttype", "visittype", "type", "reason"),
    "booked_at": ("scheduledday", "created", "datebooked", "bookeddate", "madeon", "entered"),
    "scheduled_start": ("appointmentday", "apptdate", "appointmentdate", "start", "datetime"),
    "status": ("noshow", "apptstatus", "appointmentstatus", "showstatus"),
    "charge_amount": ("amount", "charge", "fee", "billed"),
    "cpt_code": ("procedure", "cpt", "code", "proccode"),
    "service_date": ("datefrom", "dos", "dateofservice", "servicedate"),
    "posted_date": ("dateposted", "postdate", "entrydate"),
    "payer_id": ("insurance", "payer", "carrier", "plan"),
}
_TEXTUAL_KINDS = (Kind.STR, Kind.CODE, Kind.ENUM)


def match_columns(
    header: list[str], contract: Contract, types: dict[str, str] | None = None
) -> dict[str, str]:
    """contract column -> file column, by squashed name, a vendor synonym, then a close
    spelling; a date column never fills a text column and the other way round."""
    squashed = {_squash(h): h for h in header}
    matches: dict[str, str] = {}

    def fits(col, vendor: str) -> bool:
        inferred = (types or {}).get(vendor)
        dated = inferred in ("date", "timestamp")
        wants_date = col.kind in (Kind.DATE, Kind.TIMESTAMP, Kind.MONTH)
        return inferred is None or dated == wants_date or inferred == "empty"

    for col in contract.columns:
        key = _squash(col.name)
        candidates = [key, *SYNONYMS.get(col.name, ())]
        found = next((squashed[c] for c in candidates if c in squashed), None)
        if found is None:
            close = difflib.get_close_matches(key, list(squashed), n=1, cutoff=0.8)
            found = squashed[close[0]] if close else None
        if found is not None and found not in matches.values() and fits(col, found):
            matches[col.name] = found
    return matches


def draft_route(profile: FileProfile, source: str) -> str:
    """A route in the mapping language's YAML, with TODO where a person must decide."""
    if profile.standard is not None:
        return (
            f"# {profile.path.name}: a standard format ({profile.standard}) that lands as "
            f"{profile.entity or 'nothing'} without a route\n"
        )
    if profile.entity is None:
        return f"# {profile.path.name}: no entity recognised; write its route by hand\n"
    contract = BY_ENTITY[profile.entity]
    by_name = {c.name: c for c in profile.columns}
    glob = re.sub(r"\d+", "*", profile.path.name)
    lines = [
        f"# drafted by `clinicops inspect {profile.path.name}`: check every TODO",
        "sources:",
        f"  {source}:",
    ]
    if profile.delimiter not in (None, ",") or profile.encoding != "utf-8":
        lines += ["    format:", f"      delimiter: {_quote(profile.delimiter or ',')}"]
        lines.append(f"      encoding: {profile.encoding}")
    lines += [
        "    routes:",
        f"      - files: [{_quote(glob)}]",
        f"        entity: {profile.entity}",
        "        columns:",
    ]
    for col in contract.columns:
        vendor = profile.matches.get(col.name)
        if vendor is None:
            if col.required:
                lines.append(f"          {col.name}: {{constant: TODO}}  # TODO: no column found")
            continue
        column = by_name.get(vendor)
        spec = [f"column: {_quote(vendor)}"]
        todo = ""
        if column is not None:
            if col.kind in (Kind.DATE, Kind.TIMESTAMP, Kind.MONTH) and column.pattern:
                extra = ", local: true" if column.pattern.endswith("Z") else ""
                spec.append(f"format: {{patterns: [{_quote(column.pattern)}]{extra}}}")
            if col.kind in (Kind.MONEY, Kind.NUMBER) and column.number:
                options = ", ".join(f"{k}: {_quote(v)}" for k, v in column.number.items())
                spec.append(f"format: {{{options}}}")
            if col.kind is Kind.ENUM and column.values and not column.personal:
                pairs = []
                for value in column.values:
                    guess = _normalise_name(value)
                    target = guess if guess in col.enum else "TODO"
                    todo = "  # TODO: map each value" if target == "TODO" else todo
                    pairs.append(f"{_quote(value)}: {target}")
                spec.append(f"values: {{{', '.join(pairs)}}}")
        lines.append(f"          {col.name}: {{{', '.join(spec)}}}{todo}")
    return "\n".join(lines) + "\n"


def _quote(value: object) -> str:
    text = str(value).lower() if isinstance(value, bool) else str(value)
    if isinstance(value, bool):
        return text
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
