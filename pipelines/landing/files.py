"""Finding delivered files and reading them as batches of text, whatever their format.

Every reader yields the same thing: a frame whose columns are the contract's names
(all strings, exactly as received), `_line` and `_extra`. Parsing and validation then
work on text only, so a CSV, an XLSX sheet and a Parquet file are judged by one rule set.

`_line` is the record's line number as if the file were a CSV with its header on line 1:
the n-th record is line n + 1. In a CSV whose quoted fields contain newlines it is
therefore the record number plus one, not the physical line an editor shows; blank lines
count as lines but are not records. In an XLSX sheet it is the spreadsheet row number
(header in row 1). In a Parquet file it is the row number plus one.
"""

from __future__ import annotations

import codecs
import gzip
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq

from pipelines.config import FileFormat
from pipelines.contracts import BY_ENTITY, SOURCES, Contract, Kind

FORMATS = {".csv": "csv", ".csv.gz": "csv", ".xlsx": "xlsx", ".parquet": "parquet"}
# Entities sorted longest first, so a stem is matched to the most specific one.
_ENTITIES = sorted(BY_ENTITY, key=len, reverse=True)
_STEM_SEPARATORS = ("_", "-", ".", " ")
_DECODE_CHUNK = 16 * 1024 * 1024


class FileError(Exception):
    """The whole file cannot be landed; the message names the problem, never a value."""


@dataclass(frozen=True)
class Delivered:
    """One file found in the inbox."""

    path: Path
    source: str

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def suffix(self) -> str:
        name = self.name.lower()
        return next((s for s in sorted(FORMATS, key=len, reverse=True) if name.endswith(s)), "")

    @property
    def entity(self) -> str | None:
        """The entity the file's stem names: `appointments_2026-W46.csv.gz` → appointments."""
        stem = self.name.lower().split(".", 1)[0]
        for entity in _ENTITIES:
            if stem == entity or (
                stem.startswith(entity) and stem[len(entity)] in _STEM_SEPARATORS
            ):
                return entity
        return None


def discover(inbox: Path) -> list[Delivered]:
    """Files under `inbox/<source>/`, in the order they apply: lexical by file name.

    Hidden files and Office lock files (`~$…`) are skipped: they are not deliveries.
    """
    found = []
    for source in SOURCES:
        folder = inbox / source
        if not folder.is_dir():
            continue
        for path in folder.iterdir():
            if path.is_file() and not path.name.startswith((".", "~$")):
                found.append(Delivered(path, source))
    return sorted(found, key=lambda d: (d.name, d.source))


# Extra columns are kept in `_extra`, but a vendor export may carry personal data the
# contract does not name (a patient's name, birth date, phone, member number). Personal
# data stops at landing, so extra columns whose name looks personal are never kept.
PERSONAL_EXTRA = re.compile(
    r"patient|name|birth|dob|ssn|social|phone|mobile|e-?mail|address|street|zip|postal"
    r"|mrn|member|subscriber|insured|guarantor"
)


def _normalise_name(name: str) -> str:
    return name.strip().lstrip("\ufeff").strip().casefold()


def resolve_columns(
    header: list[str], contract: Contract, mapping: dict[str, str]
) -> tuple[dict[str, str], list[str]]:
    """Map the file's header to contract names: ({file column: contract column}, extras).

    Extra columns whose name looks personal (PERSONAL_EXTRA) are left out of extras.

    The source's vendor mapping applies first; then names match the contract after
    trimming and ignoring case. Header names are not echoed in errors: in a file without
    a header the first line is data and may hold personal data.
    """
    vendor = {_normalise_name(k): v for k, v in mapping.items()}
    contract_names = {c.casefold(): c for c in contract.names}
    matched: dict[str, str] = {}
    extras: list[str] = []
    for column in header:
        norm = _normalise_name(column)
        target = vendor.get(norm) or contract_names.get(norm)
        if target is None:
            if not PERSONAL_EXTRA.search(norm):
                extras.append(column)
        elif target in matched.values():
            raise FileError(f"two columns map to {target!r}; keep one")
        else:
            matched[column] = target
    if not matched:
        raise FileError(
            f"no column of {contract.entity} found in the first line: the file needs a "
            f"header row with the contract's column names (e.g. {', '.join(contract.names[:3])})"
        )
    missing = [c for c in contract.required_names if c not in matched.values()]
    if missing:
        raise FileError(f"missing required column(s): {', '.join(missing)}")
    return matched, extras


def _project(
    frame: pl.LazyFrame | pl.DataFrame,
    matched: dict[str, str],
    extras: list[str],
    contract: Contract,
) -> pl.LazyFrame | pl.DataFrame:
    """Contract columns (absent optional ones as nulls), `_line` and `_extra` JSON."""
    by_target = {target: column for column, target in matched.items()}
    columns = [
        pl.col(by_target[name]).alias(name)
        if name in by_target
        else pl.lit(None, pl.String).alias(name)
        for name in contract.names
    ]
    if extras:
        extra = pl.struct([pl.col(c).alias(c.strip()) for c in extras]).struct.json_encode()
    else:
        extra = pl.lit(None, pl.String)
    return frame.select(pl.col("_line").cast(pl.Int64), *columns, extra.alias("_extra")).filter(
        # A blank line (or one of only delimiters) is not a record.
        ~pl.all_horizontal(pl.col(contract.names).is_null())
    )


def transcode_to_utf8(path: Path, encoding: str, target: Path) -> Path:
    """Decompress and re-encode a CSV as plain UTF-8 in bounded memory, for Polars."""
    try:
        decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    except LookupError:
        raise FileError(f"unknown encoding {encoding!r} in the source's format") from None
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    try:
        with opener(path, "rb") as src, open(target, "wb") as dst:
            while chunk := src.read(_DECODE_CHUNK):
                dst.write(decoder.decode(chunk).encode("utf-8"))
            dst.write(decoder.decode(b"", final=True).encode("utf-8"))
    except UnicodeDecodeError as exc:
        raise FileError(f"is not valid {encoding} text ({exc.reason})") from None
    except (OSError, EOFError) as exc:
        raise FileError(f"cannot be decompressed ({exc})") from None
    return target


def _is_plain_utf8(encoding: str) -> bool:
    return codecs.lookup(encoding).name == "utf-8"


def read_csv_batches(
    path: Path,
    contract: Contract,
    fmt: FileFormat,
    mapping: dict[str, str],
    scratch: Path,
    batch_rows: int,
) -> Iterator[pl.DataFrame]:
    if path.stat().st_size == 0:
        raise FileError("is empty")
    try:
        plain = _is_plain_utf8(fmt.encoding)
    except LookupError:
        raise FileError(f"unknown encoding {fmt.encoding!r} in the source's format") from None
    if not plain or path.name.lower().endswith(".gz"):
        path = transcode_to_utf8(path, fmt.encoding, scratch / "input.csv")
        if path.stat().st_size == 0:
            raise FileError("is empty")
    options = dict(separator=fmt.delimiter, infer_schema=False, raise_if_empty=True)
    try:
        header = pl.read_csv(path, n_rows=0, **options).columns
    except pl.exceptions.NoDataError:
        raise FileError("is empty") from None
    except pl.exceptions.ComputeError as exc:
        raise FileError(_polars_message(exc)) from None
    matched, extras = resolve_columns(header, contract, mapping)
    scan = pl.scan_csv(path, row_index_name="_line", row_index_offset=2, **options)
    try:
        yield from _project(scan, matched, extras, contract).collect_batches(chunk_size=batch_rows)
    except pl.exceptions.ComputeError as exc:
        raise FileError(_polars_message(exc)) from None


def _polars_message(exc: Exception) -> str:
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if "utf-8" in first or "utf8" in first:
        return "is not valid UTF-8 text (set the source's format encoding, e.g. latin-1)"
    return f"cannot be parsed as CSV: {first}"


def _as_text(name: str, dtype: pl.DataType, kind: Kind | None) -> pl.Expr:
    """A typed cell (XLSX, Parquet) as the text a CSV export would have held.

    Dates and times use the contract's formats; integral floats lose their `.0`, because
    spreadsheets store every number as a float and `30.0` is a valid slot length there.
    """
    col = pl.col(name)
    if dtype == pl.String:
        return col
    if dtype.is_float():
        integral = col.is_finite() & (col == col.round(0)) & (col.abs() < 2**53)
        return (
            pl.when(integral)
            .then(col.cast(pl.Int64).cast(pl.String))
            .otherwise(col.cast(pl.String))
        )
    if dtype == pl.Date:
        return col.dt.strftime("%Y-%m" if kind is Kind.MONTH else "%Y-%m-%d")
    if isinstance(dtype, pl.Datetime):
        with_offset = "%:z" if dtype.time_zone else ""
        full = col.dt.strftime(f"%Y-%m-%d %H:%M:%S%.6f{with_offset}")
        if kind in (Kind.DATE, Kind.MONTH):
            short = col.dt.strftime("%Y-%m" if kind is Kind.MONTH else "%Y-%m-%d")
            midnight = col.dt.time() == pl.time(0)
            if kind is Kind.MONTH:
                midnight = midnight & (col.dt.day() == 1)
            return pl.when(midnight).then(short).otherwise(full)
        return full
    if dtype == pl.Boolean:
        return col.cast(pl.String).str.to_lowercase()
    return col.cast(pl.String)


def _typed_to_text(
    frame: pl.DataFrame,
    matched: dict[str, str],
    extras: list[str],
    contract: Contract,
    first_line: int,
) -> pl.DataFrame:
    kinds = {column: contract.column(target).kind for column, target in matched.items()}
    text = frame.select(
        _as_text(name, dtype, kinds.get(name)).alias(name) for name, dtype in frame.schema.items()
    ).with_row_index("_line", offset=first_line)
    return _project(text, matched, extras, contract)


def read_xlsx_batches(
    path: Path, contract: Contract, fmt: FileFormat, mapping: dict[str, str], batch_rows: int
) -> Iterator[pl.DataFrame]:
    """A whole sheet (XLSX tops out at about a million rows), yielded in batches."""
    try:
        frame = pl.read_excel(
            path,
            sheet_name=fmt.sheet,
            sheet_id=None if fmt.sheet else 1,
            engine="calamine",
            infer_schema_length=None,
            raise_if_empty=False,
        )
    except Exception as exc:  # fastexcel raises its own error types for every failure
        raise FileError(f"cannot be read as an XLSX workbook: {type(exc).__name__}") from None
    if frame.width == 0:
        raise FileError("is empty")
    matched, extras = resolve_columns(frame.columns, contract, mapping)
    for offset in range(0, max(frame.height, 1), batch_rows):
        chunk = frame.slice(offset, batch_rows)
        yield _typed_to_text(chunk, matched, extras, contract, first_line=offset + 2)


def read_parquet_batches(
    path: Path, contract: Contract, mapping: dict[str, str], batch_rows: int
) -> Iterator[pl.DataFrame]:
    try:
        parquet = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises ArrowInvalid, OSError, … for a bad file
        raise FileError(f"cannot be read as Parquet: {type(exc).__name__}") from None
    matched, extras = resolve_columns(parquet.schema_arrow.names, contract, mapping)
    offset = 0
    for record_batch in parquet.iter_batches(batch_size=batch_rows):
        chunk = pl.from_arrow(record_batch)
        yield _typed_to_text(chunk, matched, extras, contract, first_line=offset + 2)
        offset += chunk.height


def read_batches(
    delivered: Delivered,
    contract: Contract,
    fmt: FileFormat,
    mapping: dict[str, str],
    scratch: Path,
    batch_rows: int,
) -> Iterator[pl.DataFrame]:
    """Batches of a delivered file as text frames (see the module docstring)."""
    kind = FORMATS.get(delivered.suffix)
    if kind == "csv":
        return read_csv_batches(delivered.path, contract, fmt, mapping, scratch, batch_rows)
    if kind == "xlsx":
        return read_xlsx_batches(delivered.path, contract, fmt, mapping, batch_rows)
    if kind == "parquet":
        return read_parquet_batches(delivered.path, contract, mapping, batch_rows)
    raise FileError(f"unsupported file type (expected one of {', '.join(FORMATS)})")
