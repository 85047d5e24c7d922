"""Which entities a delivered file lands as, and how its batches are read and judged.

The folder a file arrives in names the source whose configuration applies; the entity
comes from a route whose file pattern matches the file's name, else from the file's name
itself (`appointments_2026-W46.csv`), wherever the file sits. A file outside every source
folder (the inbox's top level) is matched against every source's routes, and a contract
name then brings its own source's configuration. One file may land as several entities
(several routes, or a reader of a multi-entity format): each is a delivery of its own.

A reader that yields several entities from one file (an X12 835, a FHIR bundle) plugs in
with one call to `register_reader`, and its frames are judged like any other file's.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl

from pipelines.core.config import Config, FileFormat
from pipelines.core.contracts import BY_ENTITY, contract_for
from pipelines.core.mapping_config import Route
from pipelines.land import standard
from pipelines.land.mapping import Mapped, Mapper, judge
from pipelines.land.read import Delivered, FileError, read_batches
from pipelines.land.validate import Checked, check

# (path, entity, the source's format, a scratch folder, rows per batch) -> text frames in
# the contract's shape: the entity's column names, `_line`, `_extra` and `_problem`.
EntityReader = Callable[[Path, str, FileFormat, Path, int], Iterator[pl.DataFrame]]


@dataclass(frozen=True)
class MultiEntityReader:
    entities: tuple[str, ...]
    read: EntityReader


READERS: dict[str, MultiEntityReader] = {}


def register_reader(suffix: str, entities: tuple[str, ...], read: EntityReader) -> None:
    """Land files ending in `suffix` (`.835`, `.ndjson`) as each of `entities`, via `read`."""
    for entity in entities:
        contract_for(entity)
    READERS[suffix.lower()] = MultiEntityReader(tuple(entities), read)


@dataclass(frozen=True)
class Target:
    """One entity a file lands as: a delivery of its own."""

    entity: str
    source: str  # whose configuration applies
    route: Route | None = None
    reader: MultiEntityReader | None = None

    @property
    def route_name(self) -> str | None:
        return self.route.label if self.route else None


def _matches(route: Route, delivered: Delivered) -> bool:
    name = delivered.name.lower()
    under_source = delivered.relative.split("/", 1)[-1].lower()
    return any(
        fnmatch.fnmatchcase(under_source if "/" in glob else name, glob.lower())
        for glob in route.files
    )


def plan(delivered: Delivered, config: Config) -> list[Target]:
    """The entities `delivered` lands as; empty when nothing matches it."""
    lowered = delivered.name.lower()
    for suffix, reader in READERS.items():
        if lowered.endswith(suffix):
            return [
                Target(e, delivered.source or contract_for(e).source, reader=reader)
                for e in reader.entities
            ]
    if entity := standard.entity_of(delivered.path):
        # a standard format names its own entity (an 835 is transactions, a FHIR file its
        # resource type); a FHIR export holds every system's resources in one folder
        source = delivered.source if delivered.source in config.sources else None
        return [Target(entity, source or contract_for(entity).source)]
    sources = [delivered.source] if delivered.source else list(config.sources)
    routed = [
        Target(route.entity, source, route=route)
        for source in sources
        for route in config.source(source).routes
        if _matches(route, delivered)
    ]
    if routed:
        return routed
    entity = delivered.entity
    if entity is None:
        return []
    return [Target(entity, delivered.source or BY_ENTITY[entity].source)]


def unmatched_reason(path: Path | None = None) -> str:
    """Why a file lands as nothing: a standard format says which resource it did not know."""
    if path is not None and (reason := standard.unknown_entity_reason(path)):
        return reason
    return (
        "unknown entity: the file name matches no route and does not start with one of "
        + ", ".join(sorted(BY_ENTITY))
    )


@dataclass(frozen=True)
class Shaped:
    """One batch as the contract's text, before validation, with the mapping's verdicts."""

    batch: pl.DataFrame  # contract names, `_line`, `_extra`, `_problem`
    mapped: Mapped | None = None  # set when a route shaped it
    filtered: int = 0


def shaped_batches(
    delivered: Delivered, target: Target, config: Config, scratch: Path, batch_rows: int
) -> Iterator[Shaped]:
    """A delivered file's batches in the shape of `target`'s contract, as text."""
    source = config.source(target.source)
    contract = contract_for(target.entity)
    if target.reader is not None:
        frames = target.reader.read(delivered.path, target.entity, source.format, scratch,
                                    batch_rows)  # fmt: skip
        yield from (Shaped(batch) for batch in frames)
        return
    vendor = source.mapping.get(target.entity, {})
    if target.route is None:
        for batch in read_batches(delivered, contract, source.format, vendor, scratch, batch_rows):
            yield Shaped(batch)
        return
    mapper: Mapper | None = None
    fmt = target.route.format or source.format
    for raw in read_batches(delivered, None, fmt, {}, scratch, batch_rows):
        if mapper is None:
            columns = [c for c in raw.columns if c not in ("_line", "_extra", "_problem")]
            mapper = Mapper(target.route, vendor, columns)
        mapped = mapper.apply(raw)
        yield Shaped(mapped.frame, mapped, mapped.filtered)


@dataclass(frozen=True)
class Judged:
    """One batch as the contract's text (`batch`, for rejected rows), judged."""

    batch: pl.DataFrame
    checked: Checked
    filtered: int = 0


def judged_batches(
    delivered: Delivered,
    target: Target,
    config: Config,
    scratch: Path,
    batch_rows: int,
    landed_on: date,
) -> Iterator[Judged]:
    contract = contract_for(target.entity)
    for shaped in shaped_batches(delivered, target, config, scratch, batch_rows):
        if shaped.mapped is None:
            checked = check(shaped.batch, contract, landed_on)
        else:
            checked = judge(shaped.mapped, contract, landed_on)
        yield Judged(shaped.batch, checked, shaped.filtered)


__all__ = [
    "FileError",
    "Judged",
    "Shaped",
    "Target",
    "judged_batches",
    "plan",
    "register_reader",
    "shaped_batches",
]
