"""Finding delivered files and reading them as batches of text, whatever their format.

Every reader yields the same thing: a frame whose columns are the contract's names
(all strings, exactly as received), `_line` and `_extra`. Parsing and validation then
work on text only, so a CSV, an XLSX sheet and a Parquet file are judged by one rule set.

`_line` is the record's line number as if the file were a CSV with its header on line 1:
the n-th record is line n + 1. In a CSV whose quoted fields contain newlines it is
therefore the record number plus one, not the physical line an editor shows; blank lines
count as lines but are not records. In an XLSX sheet it is the spreadsheet row number
(header in row 1). In a Parquet file it is the row number plus one.

A CSV line with more or fewer fields than its header (a delimiter inside an unquoted
value, or a value left out, which shifts every later value) carries a `_problem` that
rejects it whole: its values sit under the wrong names, so a patient id can be in any
column. Fields are counted per record outside quotes (`_field_counts`), since Polars pads
a short line with nulls exactly as it reads empty trailing values.
"""

from __future__ import annotations

import codecs
import csv
import gzip
import io
import os
import re
import stat
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.core.config import FileFormat
from pipelines.core.contracts import (
    BY_ENTITY,
    CONTRACTS,
    SOURCES,
    Column,
    Contract,
    Kind,
)
from pipelines.land.xlsx_cells import cell_problems

FORMATS = {".csv": "csv", ".csv.gz": "csv", ".xlsx": "xlsx", ".parquet": "parquet"}
# Entities sorted longest first, so a stem is matched to the most specific one.
_ENTITIES = sorted(BY_ENTITY, key=len, reverse=True)
_STEM_SEPARATORS = ("_", "-", ".", " ")
_DECODE_CHUNK = 16 * 1024 * 1024
# Bytes read per batch of `batch_rows` rows: about the width of a wide export's line.
_BYTES_PER_ROW = 200
_OTHER_DELIMITERS = (",", ";", "\t", "|")
_UTF16_MARKS = (b"\xff\xfe", b"\xfe\xff")
_UTF32_MARKS = (b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")
_SNIFF_BYTES = 64 * 1024
# Polars error messages can quote a field of the file, which may be personal data.
_QUOTED_VALUE = re.compile(r"`[^`]*`")


class FileError(Exception):
    """The whole file cannot be landed; the message names the problem, never a value."""


@dataclass(frozen=True)
class Delivered:
    """One file found in the inbox.

    `source` is the source folder the file was found under (its configuration applies),
    or empty for a file outside every source folder. `relative` is its path under the
    inbox, for messages and the ledger (`billing/2026-W46/claims.csv`).
    """

    path: Path
    source: str
    relative: str = ""

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def label(self) -> str:
        return self.relative or f"{self.source}/{self.name}".lstrip("/")

    @property
    def suffix(self) -> str:
        from pipelines.land import standard

        name = self.name.lower()
        if standard.format_of(self.path):
            return next((s for s in standard.SUFFIXES if name.endswith(s)), self.path.suffix)
        return next((s for s in sorted(FORMATS, key=len, reverse=True) if name.endswith(s)), "")

    @property
    def entity(self) -> str | None:
        """The entity the file's stem names: `appointments_2026-W46.csv.gz` → appointments.

        A standard format says its entity itself (an 835 is transactions, a FHIR file
        the entity of its resource type): pipelines/land/standard.py.
        """
        from pipelines.land import standard

        if standard.format_of(self.path):
            return standard.entity_of(self.path)
        stem = self.name.lower().split(".", 1)[0]
        for entity in _ENTITIES:
            if stem == entity or (
                stem.startswith(entity) and stem[len(entity)] in _STEM_SEPARATORS
            ):
                return entity
        return None


@dataclass(frozen=True)
class NotLanded:
    """An inbox entry that is not landed, with the reason, so it is never skipped in silence.

    `waiting` marks a file still being written: it is not refused, it lands on a later run.
    """

    relative: str
    source: str
    reason: str
    waiting: bool = False


@dataclass
class Discovery:
    files: list[Delivered]
    not_landed: list[NotLanded]


# Names a writer gives a file until it is complete: never landed, even when stable.
PARTIAL_SUFFIXES = (".part", ".tmp", ".partial", ".crdownload")
# How long a file's size and modification time must stay unchanged before it is taken.
SETTLE_SECONDS = 1.0


def discover(inbox: Path, settle_seconds: float = SETTLE_SECONDS) -> list[Delivered]:
    """The files to land, in the order they apply (see `scan`)."""
    return scan(inbox, settle_seconds).files


def scan(inbox: Path, settle_seconds: float = SETTLE_SECONDS) -> Discovery:
    """Every entry under the inbox: files to land in the order they apply, and the rest.

    Files apply in lexical order of their name (then of their path, so that
    `2026-W46/claims.csv` comes before `2026-W47/claims.csv`). The source is the first
    folder under the inbox when it names a source system; a file anywhere else (the
    inbox's top level, a folder that is no source) has no source folder, and routes and
    contract names alone decide its entity. Sub-folders are searched to any depth.

    Not landed, each with its reason: a folder named like a file (`appointments.csv/`),
    a FIFO or other special file, a dangling symbolic link, a link pointing outside the
    inbox (refused: the inbox is the boundary of what may be landed), and a file still
    being written (a `.part`/`.tmp` name, or a size or modification time that changes
    across `settle_seconds`). Hidden files and Office lock files (`~$…`) are not
    deliveries and are passed over.
    """
    found = Discovery([], [])
    if not inbox.is_dir():
        return found
    root = inbox.resolve()
    candidates: list[tuple[Delivered, os.stat_result]] = []

    def visit(folder: Path, source: str) -> None:
        for item in sorted(folder.iterdir()):
            if item.name.startswith((".", "~$")):
                continue
            relative = item.relative_to(inbox).as_posix()
            item_source = source
            if folder == inbox and item.name in SOURCES:
                item_source = item.name
            refusal = _refusal(item, root)
            if refusal:
                found.not_landed.append(NotLanded(relative, item_source, refusal))
            elif item.is_dir():
                visit(item, item_source)
            elif item.name.lower().endswith(PARTIAL_SUFFIXES):
                found.not_landed.append(
                    NotLanded(
                        relative,
                        item_source,
                        "is still being written (its name is temporary); it lands once renamed",
                        waiting=True,
                    )
                )
            else:
                candidates.append((Delivered(item, item_source, relative), item.stat()))

    visit(inbox, "")
    for delivered, reason in _unsettled(candidates, settle_seconds):
        found.not_landed.append(
            NotLanded(delivered.relative, delivered.source, reason, waiting=True)
        )
    waiting = {n.relative for n in found.not_landed}
    found.files = sorted(
        (d for d, _ in candidates if d.relative not in waiting),
        key=lambda d: (d.name, d.relative),
    )
    return found


def _refusal(item: Path, root: Path) -> str | None:
    """Why an entry cannot be landed at all, or None for a regular file or a folder."""
    if item.is_symlink():
        try:
            target = item.resolve(strict=True)
        except (OSError, RuntimeError):
            return "is a symbolic link to nothing (dangling)"
        if not target.is_relative_to(root):
            return "is a symbolic link to a place outside the inbox; refused"
        if target.is_dir():
            return "is a symbolic link to a folder; links to folders are not followed"
    try:
        mode = item.stat().st_mode
    except OSError as exc:
        return f"cannot be read ({exc.strerror})"
    if stat.S_ISDIR(mode):
        lowered = item.name.lower()
        if any(lowered.endswith(s) for s in FORMATS):
            return "is a folder, not a file"
        return None
    if not stat.S_ISREG(mode):
        kind = "a FIFO (named pipe)" if stat.S_ISFIFO(mode) else "a special file"
        return f"is {kind}, not a regular file"
    return None


def _unsettled(
    candidates: list[tuple[Delivered, os.stat_result]], settle_seconds: float
) -> list[tuple[Delivered, str]]:
    """Files whose size or modification time changed across one short wait.

    Only files modified within the wait window are watched (one wait for all of them): a
    file untouched for longer has already been stable for that long.
    """
    if settle_seconds <= 0:
        return []
    now = time.time()
    young = [(d, st) for d, st in candidates if now - st.st_mtime < settle_seconds]
    if not young:
        return []
    time.sleep(settle_seconds)
    moving = []
    for delivered, before in young:
        try:
            after = delivered.path.stat()
        except OSError:
            moving.append((delivered, "disappeared while the inbox was read"))
            continue
        if (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns):
            moving.append(
                (
                    delivered,
                    f"is still being written (it changed within {settle_seconds:g} s); "
                    "it lands on a later run",
                )
            )
    return moving


# Extra columns are kept in `_extra`, but a vendor export may carry personal data the
# contract does not name (a patient's name, birth date, phone, member number). Personal
# data stops at landing, so extra columns whose name looks personal are never kept.
PERSONAL_EXTRA = re.compile(
    r"patient|name|birth|dob|ssn|social|phone|mobile|e-?mail|address|street|zip|postal"
    r"|mrn|member|subscriber|insured|guarantor"
)


def _normalise_name(name: str) -> str:
    """Trimmed, case-folded, inner blanks as `_`: `Appointment ID` names appointment_id."""
    return re.sub(r"\s+", "_", name.strip().lstrip("\ufeff").strip().casefold())


RAW_ENTITY = "(file)"


def raw_contract(header: list[str]) -> Contract:
    """A contract of the file's own columns, all optional text, named as normalised.

    Readers given this instead of an entity's contract yield the file as it is, for the
    mapping language (pipelines/land/mapping.py) to shape into a contract. An empty or
    repeated header name has no column of its own (its values stay in `_extra`).
    """
    names: dict[str, str] = {}
    for column in header:
        norm = _normalise_name(column)
        if norm and norm not in names:
            names[norm] = column.strip()
    columns = tuple(Column(n, Kind.STR, False, original) for n, original in names.items())
    return Contract(RAW_ENTITY, "", (), columns, "the columns of one delivered file")


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
            + _misnamed_hint(header, contract)
        )
    missing = [c for c in contract.required_names if c not in matched.values()]
    if missing:
        raise FileError(
            f"missing required column(s): {', '.join(missing)}" + _misnamed_hint(header, contract)
        )
    return matched, extras


def _misnamed_hint(header: list[str], contract: Contract) -> str:
    """Say so when the columns are those of another entity: the file is misnamed."""
    names = {_normalise_name(c) for c in header}
    others = [
        c.entity
        for c in CONTRACTS
        if c.entity != contract.entity and set(c.required_names) <= names
    ]
    if not others:
        return ""
    return f"; its columns are those of {' or '.join(others)}: is the file misnamed?"


def _project(
    frame: pl.LazyFrame | pl.DataFrame,
    matched: dict[str, str],
    extras: dict[str, str],
    contract: Contract,
    problem: pl.Expr | None = None,
) -> pl.LazyFrame | pl.DataFrame:
    """Contract columns (absent optional ones as nulls), `_line`, `_extra` JSON, `_problem`.

    `matched` maps frame columns to contract names, `extras` frame columns to the names
    they keep in `_extra`.
    """
    by_target = {target: column for column, target in matched.items()}
    columns = [
        pl.col(by_target[name]).alias(name)
        if name in by_target
        else pl.lit(None, pl.String).alias(name)
        for name in contract.names
    ]
    if extras:
        extra = pl.struct([pl.col(c).alias(k) for c, k in extras.items()]).struct.json_encode()
    else:
        extra = pl.lit(None, pl.String)
    if problem is None:
        problem = pl.lit(None, pl.String)
    return frame.select(
        pl.col("_line").cast(pl.Int64), *columns, extra.alias("_extra"), problem.alias("_problem")
    ).filter(
        # A blank line (or one of only delimiters) is not a record.
        ~pl.all_horizontal(pl.col(contract.names).is_null()) | pl.col("_problem").is_not_null()
    )


def transcode_to_utf8(path: Path, encoding: str, target: Path) -> Path:
    """Decompress and re-encode a CSV as plain UTF-8 in bounded memory, for Polars."""
    try:
        decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    except LookupError:
        raise FileError(f"unknown encoding {encoding!r} in the source's format") from None
    # Every byte is valid latin-1, so a windows-1252 file (curly quotes, €) would decode
    # into invisible control characters instead of failing: refuse those bytes.
    latin1 = codecs.lookup(encoding).name == "iso8859-1"
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    lines_before = 0
    try:
        with opener(path, "rb") as src, open(target, "wb") as dst:
            while chunk := src.read(_DECODE_CHUNK):
                if latin1 and (c1 := re.search(rb"[\x80-\x9f]", chunk)):
                    line = lines_before + chunk.count(b"\n", 0, c1.start()) + 1
                    raise FileError(
                        f"line {line}: byte 0x{chunk[c1.start()]:02X} is a control character "
                        "in latin-1; the file is most likely windows-1252 (set the source's "
                        "format encoding to cp1252)"
                    )
                try:
                    dst.write(decoder.decode(chunk).encode("utf-8"))
                except UnicodeDecodeError as exc:
                    line = lines_before + chunk.count(b"\n", 0, max(exc.start, 0)) + 1
                    raise FileError(
                        f"line {line}: is not valid {encoding} text ({exc.reason})"
                    ) from None
                lines_before += chunk.count(b"\n")
            dst.write(decoder.decode(b"", final=True).encode("utf-8"))
    except UnicodeDecodeError as exc:
        raise FileError(f"is not valid {encoding} text at its end ({exc.reason})") from None
    except (OSError, EOFError) as exc:
        raise FileError(f"cannot be decompressed ({exc})") from None
    return target


def _first_invalid_utf8_line(path: Path) -> int | None:
    """The line of the first byte that is not UTF-8, read in bounded memory."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="strict")
    lines_before = 0
    with open(path, "rb") as fh:
        while chunk := fh.read(_DECODE_CHUNK):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                return lines_before + chunk.count(b"\n", 0, max(exc.start, 0)) + 1
            lines_before += chunk.count(b"\n")
    return None


def _is_plain_utf8(encoding: str) -> bool:
    return codecs.lookup(encoding).name == "utf-8"


def read_csv_batches(
    path: Path,
    contract: Contract | None,
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
    with open(path, "rb") as fh:
        head = fh.read(_SNIFF_BYTES)
    _refuse_other_bytes(head, path.name.lower().endswith(".gz"), plain)
    if not plain or path.name.lower().endswith(".gz"):
        path = transcode_to_utf8(path, fmt.encoding, scratch / "input.csv")
        if path.stat().st_size == 0:
            raise FileError("is empty")
        with open(path, "rb") as fh:
            head = fh.read(_SNIFF_BYTES)
    _refuse_cr_only(head)
    options = dict(separator=fmt.delimiter, infer_schema=False)
    try:
        first = pl.read_csv(
            path,
            n_rows=1,
            has_header=False,
            raise_if_empty=True,
            truncate_ragged_lines=True,  # lines after the header are judged below
            **options,
        )
    except pl.exceptions.NoDataError:
        raise FileError("is empty") from None
    except pl.exceptions.ComputeError as exc:
        raise FileError(_polars_message(exc, path)) from None
    header = ["" if v is None else v for v in first.row(0)] if first.height else []
    if len(header) == 1:
        others = [d for d in _OTHER_DELIMITERS if d != fmt.delimiter and d in header[0]]
        if others:
            raise FileError(
                f"line 1 holds no {fmt.delimiter!r} but does hold {others[0]!r}: set the "
                f"source's format delimiter to {others[0]!r}"
            )
    contract = contract or raw_contract(header)
    matched, extras = _positional(header, *resolve_columns(header, contract, mapping))
    # One column more than the header: filled only on a line with too many fields.
    schema = {f"_c{i}": pl.String for i in range(len(header) + 1)}
    too_many = pl.col(f"_c{len(header)}").is_not_null()
    problem = (
        pl.when(too_many)
        .then(
            pl.lit(
                f"the line has more fields than the header's {len(header)} (a "
                f"{fmt.delimiter!r} inside a value that is not quoted?)"
            )
        )
        .when(pl.col("_fields") < len(header))
        .then(
            pl.concat_str(
                pl.lit("the line has fewer fields ("),
                pl.col("_fields").cast(pl.String),
                pl.lit(
                    f") than the header's {len(header)} (a value left out shifts every "
                    "later one; the line is rejected whole)"
                ),
            )
        )
    )
    records_before = 0
    lines_before = 1  # the header's
    for chunk in _record_chunks(path, batch_rows * _BYTES_PER_ROW):
        if (escaped := chunk.find(b'\\"')) >= 0:
            line = lines_before + chunk.count(b"\n", 0, escaped) + 1
            raise FileError(
                f'line {line}: a quote escaped with a backslash (\\"), which CSV does not '
                'know (it doubles the quote: ""); export with doubled quotes'
            )
        lines_before += chunk.count(b"\n")
        if not chunk.strip():
            continue
        try:
            frame = pl.read_csv(
                chunk,
                has_header=False,
                schema=schema,
                missing_columns="insert",
                truncate_ragged_lines=True,
                row_index_name="_line",
                row_index_offset=2 + records_before,
                raise_if_empty=False,
                **options,
            )
        except pl.exceptions.ComputeError as exc:
            raise FileError(_polars_message(exc, path)) from None
        records_before += frame.height
        frame = frame.with_columns(_field_counts(chunk, fmt.delimiter, frame.height))
        records = _project(frame, matched, extras, contract, problem)
        for offset in range(0, records.height, batch_rows):
            yield records.slice(offset, batch_rows)


def _refuse_other_bytes(head: bytes, gz: bool, plain: bool) -> None:
    """A file that is not the text its name and format say, told as what it is.

    Each of these used to fail later with a message about its columns or its rows.
    """
    if not gz and head.startswith(b"\x1f\x8b"):
        raise FileError("is gzip-compressed but its name does not say so: name it .csv.gz")
    if head.startswith(b"PK\x03\x04"):
        raise FileError("is a ZIP archive (an XLSX workbook?), not CSV text: name it .xlsx")
    if not plain:
        return
    if head.startswith(_UTF32_MARKS):
        raise FileError(
            "is UTF-32 text (it starts with a UTF-32 byte order mark): set the source's "
            "format encoding to utf-32"
        )
    if head[:2] in _UTF16_MARKS:
        raise FileError(
            "is UTF-16 text (it starts with a UTF-16 byte order mark): set the "
            "source's format encoding to utf-16"
        )
    sample = head[:4096]
    nuls = sample.count(b"\x00")
    # ASCII text is 3/4 NUL bytes in UTF-32, 1/2 in UTF-16, and none in UTF-8.
    if len(sample) >= 8 and nuls >= len(sample) * 0.7:
        encoding = "utf-32-le" if sample[1:4] == b"\x00\x00\x00" else "utf-32-be"
        raise FileError(
            f"has NUL bytes between its characters: it is UTF-32 text without a byte order "
            f"mark; set the source's format encoding to {encoding}"
        )
    if len(sample) >= 4 and nuls >= len(sample) // 4:
        odd = sample[1::2].count(b"\x00")
        encoding = "utf-16-le" if odd >= nuls / 2 else "utf-16-be"
        raise FileError(
            f"has NUL bytes between its characters: it is UTF-16 text without a byte order "
            f"mark; set the source's format encoding to {encoding}"
        )


def _refuse_cr_only(head: bytes) -> None:
    if b"\r" in head and b"\n" not in head:
        raise FileError(
            "ends its lines with a carriage return alone (old Mac line endings): save it "
            "with Windows (CRLF) or Unix (LF) line endings"
        )


_QUOTED = r'"[^"]*"'  # a doubled quote inside a field is two adjacent quoted runs


def _field_counts(chunk: bytes, delimiter: str, records: int) -> pl.Series:
    """The number of fields of each record of `chunk`, in Polars' record order; null for
    a blank line (a record to Polars, skipped later as no record at all).

    Fast path: when no line holds an odd number of quotes, records are lines, and the
    fields are the delimiters outside quoted runs plus one, counted by Polars. A quoted
    newline makes records span lines: those chunks are counted by Python's csv module.
    When neither count lines up with Polars' records, every record counts as complete
    (a short line then goes undetected rather than rejecting good ones)."""
    text = chunk.decode("utf-8", errors="replace")
    lines = pl.Series(text.split("\n"))
    if lines.len() and lines[-1] == "":
        lines = lines.head(-1)
    quotes = lines.str.count_matches('"', literal=True)
    if lines.len() == records and not (quotes % 2 == 1).any():
        unquoted = lines.str.replace_all(_QUOTED, "")
        counts = (unquoted.str.count_matches(delimiter, literal=True) + 1).set(
            lines.str.strip_chars() == "", None
        )
    else:
        rows = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        counts = pl.Series([len(row) or None for row in rows], dtype=pl.UInt32)
        if counts.len() != records:
            counts = pl.Series([None] * records, dtype=pl.UInt32)
    return counts.cast(pl.Int64).alias("_fields")


def _record_chunks(path: Path, size: int) -> Iterator[bytes]:
    """The records after the header, in pieces of about `size` bytes cut between records.

    Polars' own streaming scan reads ahead of a slow consumer without bound (a 300 MB file
    held about 450 MB), so landing cuts the file itself and parses one piece at a time. A
    newline ends a record only outside quotes; a quote inside a quoted field is doubled,
    so a newline is outside quotes exactly when the count of quotes before it is even.
    """
    with open(path, "rb") as fh:
        pending = b""
        header_done = False
        while True:
            block = fh.read(size)
            data = pending + block
            if not block:
                if data and header_done:
                    yield data
                return
            cut = _last_record_end(data, first=not header_done)
            if cut < 0:
                pending = data
                continue
            if header_done:
                yield data[: cut + 1]
            header_done = True
            pending = data[cut + 1 :]


def _last_record_end(data: bytes, *, first: bool) -> int:
    """Index of the first (or last) newline outside quotes, or -1 when there is none."""
    if first:
        at = data.find(b"\n")
        while at >= 0 and data.count(b'"', 0, at) % 2:
            at = data.find(b"\n", at + 1)
        return at
    at = data.rfind(b"\n")
    while at >= 0 and data.count(b'"', 0, at) % 2:
        at = data.rfind(b"\n", 0, at)
    return at


def _positional(
    header: list[str], matched: dict[str, str], extras: list[str]
) -> tuple[dict[str, str], dict[str, str]]:
    """Name-based matches as positional columns (`_c<i>`), so repeated names stay apart."""
    by_position: dict[str, str] = {}
    kept: dict[str, str] = {}
    for i, name in enumerate(header):
        if name in matched and matched[name] not in by_position.values():
            by_position[f"_c{i}"] = matched[name]
        elif name in extras and name.strip() not in kept.values():
            kept[f"_c{i}"] = name.strip()
    return by_position, kept


def _polars_message(exc: Exception, path: Path) -> str:
    """Polars' complaint, without any value of the file it may quote."""
    text = str(exc)
    if "utf-8" in text.lower() or "utf8" in text.lower():
        line = _first_invalid_utf8_line(path)
        where = f"line {line}: " if line else ""
        return f"{where}is not valid UTF-8 text (set the source's format encoding, e.g. latin-1)"
    if "malformed" in text.lower() and (line := _bare_quote_line(path)):
        return (
            f'line {line}: a quote (") inside a value that is not quoted; quote the whole '
            'value and double the quote inside it ("")'
        )
    if "not properly escaped" in text:
        return (
            "cannot be parsed as CSV: a quoted field is never closed (the file may have been "
            "cut short, or a value holds an unpaired quote)"
        )
    first = text.strip().splitlines()[0] if text.strip() else type(exc).__name__
    return f"cannot be parsed as CSV: {_QUOTED_VALUE.sub('…', first)}"


def _bare_quote_line(path: Path) -> int | None:
    """The first physical line with a quote inside a value that does not start with one."""
    with open(path, "rb") as fh:
        for number, line in enumerate(fh, start=1):
            if b'"' not in line:
                continue
            for field in re.split(rb"[,;\t|]", line.rstrip(b"\r\n")):
                if b'"' in field and not field.lstrip().startswith(b'"'):
                    return number
    return None


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
    if dtype.is_nested():  # an extra column only (contract columns are refused): as JSON
        return pl.struct(col.alias("v")).struct.json_encode().str.slice(5).str.head(-1)
    return col.cast(pl.String)


def _typed_to_text(
    frame: pl.DataFrame,
    matched: dict[str, str],
    extras: list[str],
    contract: Contract,
    first_line: int,
    problems: dict[int, str] | None = None,
) -> pl.DataFrame:
    kinds = {column: contract.column(target).kind for column, target in matched.items()}
    text = frame.select(
        _as_text(name, dtype, kinds.get(name)).alias(name) for name, dtype in frame.schema.items()
    ).with_row_index("_line", offset=first_line)
    problem = None
    if problems:  # cells that would load as a wrong value (pipelines/land/xlsx_cells.py)
        problem = pl.col("_line").replace_strict(problems, default=None, return_dtype=pl.String)
    return _project(text, matched, {c: c.strip() for c in extras}, contract, problem)


def read_xlsx_batches(
    path: Path, contract: Contract | None, fmt: FileFormat, mapping: dict[str, str], batch_rows: int
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
        if fmt.sheet and "sheet" in str(exc).lower():
            raise FileError(f"has no sheet named {fmt.sheet!r}{_other_sheets(path)}") from None
        raise FileError(f"cannot be read as an XLSX workbook: {type(exc).__name__}") from None
    if frame.width == 0:
        raise FileError("is empty")
    contract = contract or raw_contract(frame.columns)
    try:
        matched, extras = resolve_columns(frame.columns, contract, mapping)
    except FileError as exc:
        if fmt.sheet:
            raise
        raise FileError(f"{exc} (in the first sheet{_other_sheets(path)})") from None
    problems = cell_problems(path, fmt.sheet, frame.columns, set(matched))
    for offset in range(0, max(frame.height, 1), batch_rows):
        chunk = frame.slice(offset, batch_rows)
        yield _typed_to_text(chunk, matched, extras, contract, offset + 2, problems)


def _other_sheets(path: Path) -> str:
    import fastexcel

    names = fastexcel.read_excel(path).sheet_names
    if not names:
        return ""
    listed = ", ".join(repr(n) for n in names)
    return f"; the workbook has sheets {listed}: set the source's format sheet"


def read_parquet_batches(
    path: Path, contract: Contract | None, mapping: dict[str, str], batch_rows: int
) -> Iterator[pl.DataFrame]:
    try:
        parquet = pq.ParquetFile(path)
    except Exception as exc:  # pyarrow raises ArrowInvalid, OSError, … for a bad file
        raise FileError(f"cannot be read as Parquet: {type(exc).__name__}") from None
    contract = contract or raw_contract(parquet.schema_arrow.names)
    matched, extras = resolve_columns(parquet.schema_arrow.names, contract, mapping)
    for name in matched:
        kind = parquet.schema_arrow.field(name).type
        if pa.types.is_nested(kind):
            raise FileError(
                f"column {name!r} holds nested values ({kind}), not one plain value per "
                "row: export it flattened, as text or numbers"
            )
    offset = 0
    for record_batch in parquet.iter_batches(batch_size=batch_rows):
        chunk = pl.from_arrow(record_batch)
        yield _typed_to_text(chunk, matched, extras, contract, first_line=offset + 2)
        offset += chunk.height


def _openable(delivered: Delivered, scratch: Path) -> Path:
    """A path the readers can open: Polars and fastexcel refuse a name that is not UTF-8
    (`claims_\\xe9.csv`), so such a file is read through a link with a plain name."""
    try:
        str(delivered.path).encode("utf-8")
    except UnicodeEncodeError:
        scratch.mkdir(parents=True, exist_ok=True)
        link = scratch / f"source{delivered.suffix}"
        link.symlink_to(delivered.path)
        return link
    return delivered.path


def read_batches(
    delivered: Delivered,
    contract: Contract | None,
    fmt: FileFormat,
    mapping: dict[str, str],
    scratch: Path,
    batch_rows: int,
) -> Iterator[pl.DataFrame]:
    """Batches of a delivered file as text frames (see the module docstring).

    Without a contract, the frames hold the file's own columns (`raw_contract`).
    """
    from pipelines.land import standard

    if contract is not None and standard.format_of(delivered.path):
        return standard.read_batches(delivered.path, contract.entity, scratch, batch_rows)
    kind = FORMATS.get(delivered.suffix)
    path = _openable(delivered, scratch)
    if kind == "csv":
        return read_csv_batches(path, contract, fmt, mapping, scratch, batch_rows)
    if kind == "xlsx":
        return read_xlsx_batches(path, contract, fmt, mapping, batch_rows)
    if kind == "parquet":
        return read_parquet_batches(path, contract, mapping, batch_rows)
    raise FileError(f"unsupported file type (expected one of {', '.join(FORMATS)})")
