"""The privacy scan: proof that personal data stopped at landing.

It reads the input files the way landing does and keeps every raw value of a personal
column (contracts.Privacy: patient ids, staff full names), then searches everything a
run leaves for readers: the serving database, the decks, the digests, the logs and the
dashboards' downloads (artefact_text.py). A finding names the file, the place in it and
the kind of data, never the value: the report is itself a file that gets shared.

Ids match as whole tokens, exactly as delivered: `P1` is not found inside `P10`, and an
id is not found inside a pseudonymised key (64 hex digits), because a letter or digit on
either side of a match means it is part of a longer token. Names match ignoring case and
runs of whitespace, also as whole words. Every id and name is searched at once with an
Aho-Corasick automaton, so tens of thousands of ids cost one pass over each text.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import ahocorasick
import polars as pl

from pipelines.audit.artefact_text import UnreadableArtefact, kind_of, pieces
from pipelines.core.config import Config
from pipelines.core.contracts import BY_ENTITY, Privacy
from pipelines.core.home import Home
from pipelines.land.land import BATCH_ROWS
from pipelines.land.read import FileError, discover
from pipelines.land.routes import plan, shaped_batches

# What each personal column holds, as the report names it. A personal column missing
# here fails the scan loudly (KeyError) rather than going unsearched.
KINDS = {"patient_id": "patient id", "full_name": "staff name"}
# Left out of a home scan: landing's own output (pseudonymised by construction; add it
# with --extra to check it too) but for its rejected rows, dbt's working database, and
# the pseudonymisation key.
NOT_SCANNED = ("lake", "secrets", "warehouse.duckdb", "warehouse.duckdb.wal")
_NAME_KINDS = {"staff name"}


@dataclass
class PersonalValues:
    """Raw personal values from the input files, by value: {value: kind}."""

    ids: dict[str, str] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)
    files: int = 0
    unreadable: list[str] = field(default_factory=list)

    def counts(self) -> Counter[str]:
        return Counter([*self.ids.values(), *self.names.values()])


def collect_personal(inboxes: Iterable[Path], config: Config) -> PersonalValues:
    """Every raw value of a personal column, read with landing's own readers (formats,
    delimiters, encodings, vendor column mappings and routes of the config).

    A line with more or fewer fields than its header has its values shifted: its
    personal column holds another column's value, and its personal value sits under
    another name. Its values are searched for too, except those that are values of a
    non-personal column on the file's good lines (a provider id, a status) or that look
    like a number, date or time: what is left is what the shift may have moved."""
    found = PersonalValues()
    for inbox in inboxes:
        for delivered in discover(inbox, settle_seconds=0):
            for target in plan(delivered, config):
                contract = BY_ENTITY[target.entity]
                personal = [c for c in contract.columns if c.privacy is not Privacy.NONE]
                if not personal:
                    continue
                found.files += 1
                try:
                    shifted = _collect_file(delivered, target, personal, config, found)
                    if shifted:
                        _add_shifted(delivered, target, personal, config, shifted, found)
                except FileError as exc:
                    # Landing refuses the same file, so none of its values went anywhere.
                    found.unreadable.append(f"{delivered.label}: {exc}")
    return found


def _batches(delivered, target, config: Config):
    """The file's batches as landing shapes them for `target` (routes, mappings)."""
    with tempfile.TemporaryDirectory(prefix="clinicops-privacy-") as scratch:
        for shaped in shaped_batches(delivered, target, config, Path(scratch), BATCH_ROWS):
            yield shaped.batch


_FIGURE = r"^[\d\s:.,+\-/TZ]*$"  # numbers, dates and times: never a shifted id or name


def _collect_file(delivered, target, personal, config: Config, found: PersonalValues) -> set:
    """Add the file's personal values; return the values of its shifted lines."""
    contract = BY_ENTITY[target.entity]
    shifted: set[str] = set()
    for batch in _batches(delivered, target, config):
        broken = batch.filter(pl.col("_problem").is_not_null())
        if broken.height:
            values = broken.select(
                pl.concat_list(pl.col(contract.names)).explode().str.strip_chars()
            )
            values = values.to_series().drop_nulls()
            shifted.update(v for v in values.filter(~values.str.contains(_FIGURE)).to_list())
        batch = batch.filter(pl.col("_problem").is_null())
        for column in personal:
            kind = KINDS[column.name]
            target = found.names if kind in _NAME_KINDS else found.ids
            values = batch.get_column(column.name).str.strip_chars()
            for value in values.drop_nulls().unique().to_list():
                if value:
                    target.setdefault(value, kind)
    return shifted


def _add_shifted(delivered, target, personal, config: Config, shifted: set, found) -> None:
    """Search for a shifted line's values, less those of non-personal columns."""
    contract = BY_ENTITY[target.entity]
    others = [c.name for c in contract.columns if c.privacy is Privacy.NONE]
    candidates = pl.Series(sorted(shifted))
    for batch in _batches(delivered, target, config):
        good = batch.filter(pl.col("_problem").is_null()).select(others)
        seen = good.select(pl.concat_list(pl.all()).explode().str.strip_chars()).to_series()
        candidates = candidates.filter(~candidates.is_in(seen.drop_nulls().implode()))
    kind = KINDS[personal[0].name]  # each entity has one kind of personal column
    target = found.names if kind in _NAME_KINDS else found.ids
    for value in candidates.to_list():
        target.setdefault(value, kind)


def normal_name(text: str) -> str:
    return " ".join(text.split()).casefold()


class Matcher:
    """Finds the kinds of personal data in a text: ids as exact whole tokens, names as
    whole words ignoring case and whitespace."""

    def __init__(self, personal: PersonalValues) -> None:
        self._ids = _automaton(personal.ids.items())
        self._names = _automaton((normal_name(n), kind) for n, kind in personal.names.items())

    def kinds(self, text: str) -> set[str]:
        found = _whole_matches(self._ids, text)
        if self._names is not None:
            found |= _whole_matches(self._names, normal_name(text))
        return found


def _automaton(words: Iterable[tuple[str, str]]) -> ahocorasick.Automaton | None:
    automaton = ahocorasick.Automaton()
    for word, kind in words:
        if word:
            automaton.add_word(word, (kind, len(word)))
    if len(automaton) == 0:
        return None
    automaton.make_automaton()
    return automaton


def _whole_matches(automaton: ahocorasick.Automaton | None, text: str) -> set[str]:
    found: set[str] = set()
    if automaton is None:
        return found
    for end, (kind, length) in automaton.iter(text):
        start = end - length + 1
        if (start == 0 or not text[start - 1].isalnum()) and (
            end + 1 == len(text) or not text[end + 1].isalnum()
        ):
            found.add(kind)
    return found


@dataclass(frozen=True)
class Finding:
    file: str
    place: str
    kind: str


@dataclass
class ScanReport:
    personal: PersonalValues
    findings: list[Finding] = field(default_factory=list)
    # Files read, by kind (database, pdf, …), and places read in them, by the first word
    # of the place (table, column, page, slide, row, line, …).
    files: Counter[str] = field(default_factory=Counter)
    places: Counter[str] = field(default_factory=Counter)
    skipped: list[str] = field(default_factory=list)  # binary files with no reader
    errors: list[str] = field(default_factory=list)  # files of a known kind not read
    seconds: float = 0.0

    @property
    def exit_code(self) -> int:
        """1 when personal data was found, 2 when some file could not be read, else 0."""
        return 1 if self.findings else 2 if self.errors else 0

    def lines(self) -> list[str]:
        counts = self.personal.counts()
        out = [
            f"searched for {counts['patient id']:,} patient ids and {counts['staff name']:,} "
            f"staff names from {self.personal.files} input files",
            "read "
            + ", ".join(f"{n} {kind}" for kind, n in sorted(self.files.items()))
            + " file(s): "
            + ", ".join(f"{n:,} {unit}(s)" for unit, n in sorted(self.places.items()))
            + f" in {self.seconds:.1f} s",
        ]
        out += [
            f"input file not read (landing refuses it too): {u}" for u in self.personal.unreadable
        ]
        out += [f"skipped (binary, no reader): {s}" for s in self.skipped]
        out += [f"ERROR not scanned: {e}" for e in self.errors]
        if self.findings:
            out.append(f"FOUND personal data in {len(self.findings)} place(s) (values withheld):")
            out += [f"  {f.file} | {f.place} | {f.kind}" for f in self.findings]
        else:
            out.append("no personal data found")
        return out


def home_artefacts(home: Home) -> list[Path]:
    """Every file of the home except the lake's hashed rows, dbt's warehouse and the
    secrets; the lake's rejected rows are read, since their reasons quote values."""
    found = []
    for folder, dirs, files in os.walk(home.root):
        here = Path(folder)
        if here == home.root:
            dirs[:] = [d for d in dirs if d not in NOT_SCANNED]
            files = [f for f in files if f not in NOT_SCANNED]
        found += [here / f for f in files]
    if home.rejected.is_dir():
        found += [p for p in home.rejected.rglob("*.parquet") if p.is_file()]
    return sorted(found)


def scan(
    home: Home, inboxes: Iterable[Path], config: Config, extra: Iterable[Path] = ()
) -> ScanReport:
    started = time.perf_counter()
    report = ScanReport(collect_personal(inboxes, config))
    matcher = Matcher(report.personal)
    paths = home_artefacts(home)
    for path in extra:
        paths += sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for path in paths:
        _scan_file(path, _label(path, home), matcher, report)
    report.seconds = time.perf_counter() - started
    return report


def _label(path: Path, home: Home) -> str:
    return str(path.relative_to(home.root)) if path.is_relative_to(home.root) else str(path)


def _scan_file(path: Path, label: str, matcher: Matcher, report: ScanReport) -> None:
    safe_label = _withheld(label, matcher)
    if safe_label != label:
        report.findings += [Finding(safe_label, "file name", k) for k in matcher.kinds(label)]
    kind = kind_of(path)
    if kind is None:
        report.skipped.append(safe_label)
        return
    seen: set[tuple[str, str]] = set()
    try:
        for place, text in pieces(path, kind):
            report.places[place.split(" ", 1)[0]] += 1
            for found in matcher.kinds(text):
                key = (_withheld(place, matcher), found)
                if key not in seen:
                    seen.add(key)
                    report.findings.append(Finding(safe_label, key[0], found))
    except UnreadableArtefact as exc:
        report.errors.append(f"{safe_label}: {exc}")
        return
    report.files[kind] += 1


def _withheld(text: str, matcher: Matcher) -> str:
    """A file name or place that itself holds personal data is not printed."""
    kinds = matcher.kinds(text)
    if not kinds:
        return text
    return f"<name withheld: it holds a {' and a '.join(sorted(kinds))}>"
