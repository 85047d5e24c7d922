"""Which delivered files are in a standard format, and reading one into contract frames.

landing/files.py asks this module two things about a file: the entity it lands as
(`entity_of`) and its batches of text frames (`read_batches`). Everything else (the
ledger, validation, pseudonymisation, rejects, re-delivery, the Dagster assets) is the
CSV path unchanged. An 835 also leaves its remittance figures in the delivery's scratch
folder, which landing commits with the rows (lake.REMITTANCE_AREA).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import polars as pl

from pipelines.core.home import REMITTANCE_AREA
from pipelines.land import fhir, x12
from pipelines.land.read import FileError

SUFFIXES = (*x12.SUFFIXES, *fhir.SUFFIXES)
# Clearinghouses also hand out 835s as plain text: such a file is an 835 when it starts
# with an ISA segment.
SNIFFED_SUFFIXES = (".txt", ".dat")


def format_of(path: Path) -> str | None:
    """`x12`, `fhir`, or None for a file that is no standard format."""
    name = path.name.lower()
    if name.endswith(x12.SUFFIXES):
        return "x12"
    if name.endswith(fhir.SUFFIXES):
        return "fhir"
    if name.endswith(SNIFFED_SUFFIXES) and _starts_with_isa(path):
        return "x12"
    return None


def _starts_with_isa(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            return fh.read(64).lstrip().startswith(b"ISA")
    except OSError:
        return False


def entity_of(path: Path) -> str | None:
    """The entity a standard-format file lands as (an 835 is transactions)."""
    match format_of(path):
        case "x12":
            return "transactions"
        case "fhir":
            return fhir.entity_of(path)
    return None


def any_source(path: Path) -> bool:
    """A FHIR export holds every system's resources in one folder: any source folder will do."""
    return format_of(path) == "fhir"


def unknown_entity_reason(path: Path) -> str | None:
    """Why a standard-format file has no entity (its resources counted by type)."""
    if format_of(path) == "fhir":
        return fhir.unmapped_reason(path)
    return None


def read_batches(path: Path, entity: str, scratch: Path, batch_rows: int) -> Iterator[pl.DataFrame]:
    if format_of(path) == "fhir":
        yield from fhir.read_batches(path, entity, batch_rows)
        return
    if entity != "transactions":
        raise FileError(f"an 835 remittance lands as transactions, not {entity}")
    parsed = x12.parse(path)
    if parsed.remittance is not None and parsed.remittance.height:
        folder = scratch / REMITTANCE_AREA
        folder.mkdir(parents=True, exist_ok=True)
        # The scratch folder is named by its delivery id (ledger.Reservation.scratch).
        parsed.remittance.with_columns(
            pl.lit(scratch.name).alias("_delivery_id"), pl.lit(path.name).alias("_source_file")
        ).write_parquet(folder / "part-0.parquet")
    frame = parsed.frames["transactions"]
    for offset in range(0, frame.height, batch_rows):
        yield frame.slice(offset, batch_rows)
