"""The text a person or a program could read out of each artefact a run leaves behind.

The privacy scan (privacy_scan.py) searches text; this module turns each kind of file
into pieces of text, each with the place it came from (a table's column, a slide, a page,
a line), so that a finding can be located without quoting it. The kind of a file is told
by its first bytes where the format has a signature (databases, PDF), else by its suffix.

A file of a known kind that cannot be read raises UnreadableArtefact: a scan that skipped
it silently would pass without having looked.
"""

from __future__ import annotations

import email
import gzip
import re
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator
from email import policy
from html.parser import HTMLParser
from pathlib import Path

import duckdb

# Joins the values of one column into one text: not whitespace (names are matched after
# collapsing whitespace, which must not join two values) and never inside a value.
SEPARATOR = "\x00"

Piece = tuple[str, str]  # (place in the file, text)

# DuckDB types that cannot hold text; every other column is cast to text and read.
_NOT_TEXT = re.compile(
    r"^(U?(TINY|SMALL|BIG|HUGE)?INT(EGER)?|FLOAT|DOUBLE|REAL|DECIMAL.*|BOOLEAN|DATE"
    r"|TIME.*|TIMESTAMP.*|INTERVAL)$"
)
_SNIFF_BYTES = 8192


class UnreadableArtefact(Exception):
    """A file of a kind the scan reads could not be read; the message names no content."""


def kind_of(path: Path) -> str | None:
    """database | sqlite | parquet | pdf | gzip | pptx | xlsx | eml | html | text, or None
    for a binary file the scan has no reader for (an image, a pickle)."""
    with open(path, "rb") as fh:
        head = fh.read(_SNIFF_BYTES)
    name = path.name.lower()
    if head[8:12] == b"DUCK":
        return "database"
    if head.startswith(b"SQLite format 3\x00"):
        return "sqlite"
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith(b"%PDF"):
        return "pdf"
    if head.startswith(b"\x1f\x8b"):
        return "gzip"
    if name.endswith(".pptx"):
        return "pptx"
    if name.endswith(".xlsx"):
        return "xlsx"
    if name.endswith(".eml"):
        return "eml"
    if name.endswith((".html", ".htm")):
        return "html"
    if b"\x00" in head:
        return None
    return "text"


def pieces(path: Path, kind: str) -> Iterator[Piece]:
    readers = {
        "database": duckdb_pieces,
        "sqlite": sqlite_pieces,
        "parquet": parquet_pieces,
        "pdf": pdf_pieces,
        "gzip": gzip_pieces,
        "pptx": pptx_pieces,
        "xlsx": xlsx_pieces,
        "eml": eml_pieces,
        "html": html_pieces,
        "text": text_pieces,
    }
    return readers[kind](path)


def duckdb_pieces(path: Path) -> Iterator[Piece]:
    """Every text-like column of every table and view in every schema, each as one piece,
    then the names of tables and columns and the SQL of every view."""
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        raise UnreadableArtefact(f"cannot be opened as DuckDB ({type(exc).__name__})") from None
    with con:
        columns = con.sql(
            "select table_schema, table_name, column_name, data_type "
            "from information_schema.columns where table_catalog = current_database() "
            "order by all"
        ).fetchall()
        names: dict[tuple[str, str], list[str]] = {}
        for schema, table, column, data_type in columns:
            names.setdefault((schema, table), [schema, table]).append(column)
            if _NOT_TEXT.match(data_type):
                continue
            values = con.sql(
                f"select distinct cast({_quoted(column)} as varchar) "
                f"from {_quoted(schema)}.{_quoted(table)} where {_quoted(column)} is not null"
            ).fetchall()
            yield f"column {schema}.{table}.{column}", SEPARATOR.join(v for (v,) in values)
        for (schema, table), identifiers in names.items():
            yield f"table {schema}.{table} (its name and column names)", SEPARATOR.join(identifiers)
        views = con.sql(
            "select schema_name, view_name, sql from duckdb_views() "
            "where not internal and database_name = current_database()"
        ).fetchall()
        for schema, view, sql in views:
            yield f"view {schema}.{view} (its definition)", sql or ""


def _quoted(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def sqlite_pieces(path: Path) -> Iterator[Piece]:
    """Dagster's run and event storage: every text (or UTF-8 blob) column of every table.

    Read from a private copy: even a read-only SQLite connection leaves `-wal` and `-shm`
    files beside a database in WAL mode, and a scan must not change what it scans.
    """
    with tempfile.TemporaryDirectory(prefix="clinicops-sqlite-") as tmp:
        copy = Path(tmp) / "db"
        shutil.copyfile(path, copy)
        wal = path.with_name(path.name + "-wal")
        if wal.exists():
            shutil.copyfile(wal, copy.with_name("db-wal"))
        yield from _sqlite_copy_pieces(copy)


def _sqlite_copy_pieces(path: Path) -> Iterator[Piece]:
    try:
        con = sqlite3.connect(path)
        tables = con.execute(
            "select name from sqlite_master where type = 'table' order by name"
        ).fetchall()
    except sqlite3.Error as exc:
        raise UnreadableArtefact(f"cannot be opened as SQLite ({type(exc).__name__})") from None
    try:
        for (table,) in tables:
            cursor = con.execute(f"select * from {_quoted(table)}")
            names = [d[0] for d in cursor.description]
            texts: list[list[str]] = [[] for _ in names]
            for row in cursor:
                for i, value in enumerate(row):
                    if isinstance(value, bytes):
                        value = value.decode("utf-8", errors="replace")
                    if isinstance(value, str):
                        texts[i].append(value)
            yield f"table {table} (its name and column names)", SEPARATOR.join([table, *names])
            for name, values in zip(names, texts, strict=True):
                yield f"column {table}.{name}", SEPARATOR.join(values)
    finally:
        con.close()


def parquet_pieces(path: Path) -> Iterator[Piece]:
    with duckdb.connect() as con:
        try:
            schema = con.sql(
                "select name, type from parquet_schema(?) where num_children is null",
                params=[str(path)],
            ).fetchall()
        except duckdb.Error as exc:
            raise UnreadableArtefact(f"cannot be read as Parquet ({type(exc).__name__})") from None
        for column, data_type in schema:
            if data_type in ("BYTE_ARRAY", "FIXED_LEN_BYTE_ARRAY"):
                values = con.sql(
                    f"select distinct cast({_quoted(column)} as varchar) from read_parquet(?) "
                    f"where {_quoted(column)} is not null",
                    params=[str(path)],
                ).fetchall()
                yield f"column {column}", SEPARATOR.join(v for (v,) in values)


def pdf_pieces(path: Path) -> Iterator[Piece]:
    """One piece per page, from poppler's pdftotext (pages end with a form feed)."""
    pdftotext = shutil.which("pdftotext")
    if not pdftotext:
        raise UnreadableArtefact("needs pdftotext (Debian package poppler-utils)")
    proc = subprocess.run(
        [pdftotext, "-enc", "UTF-8", str(path), "-"], capture_output=True, timeout=300
    )
    if proc.returncode != 0:
        raise UnreadableArtefact(f"pdftotext failed (exit {proc.returncode})")
    pages = proc.stdout.decode("utf-8", errors="replace").split("\f")
    if pages and not pages[-1].strip():
        pages.pop()  # after the last page's form feed
    for number, text in enumerate(pages, start=1):
        yield f"page {number}", text


def pptx_pieces(path: Path) -> Iterator[Piece]:
    """One piece per slide (text boxes, tables, groups, notes), and the file's properties."""
    from pptx import Presentation

    try:
        deck = Presentation(str(path))
    except Exception as exc:  # python-pptx raises zip, XML and key errors for a bad file
        raise UnreadableArtefact(f"cannot be read as PPTX ({type(exc).__name__})") from None
    props = deck.core_properties
    yield (
        "document properties",
        SEPARATOR.join(
            str(v or "")
            for v in (props.author, props.title, props.subject, props.keywords, props.comments)
        )
        + SEPARATOR
        + str(props.last_modified_by or ""),
    )
    for number, slide in enumerate(deck.slides, start=1):
        texts = [t for shape in slide.shapes for t in _shape_texts(shape)]
        if slide.has_notes_slide:
            texts.append(slide.notes_slide.notes_text_frame.text)
        yield f"slide {number}", SEPARATOR.join(texts)


def _shape_texts(shape) -> Iterator[str]:
    yield shape.name
    if shape.has_text_frame:
        yield shape.text_frame.text
    if getattr(shape, "has_table", False) and shape.has_table:
        for row in shape.table.rows:
            for cell in row.cells:
                yield cell.text_frame.text
    for inner in getattr(shape, "shapes", ()):  # a group
        yield from _shape_texts(inner)


def xlsx_pieces(path: Path) -> Iterator[Piece]:
    """One piece per row of every sheet, header row included."""
    import fastexcel

    try:
        reader = fastexcel.read_excel(path)
        for name in reader.sheet_names:
            sheet = reader.load_sheet(name, header_row=None, dtypes="string").to_polars()
            for number, row in enumerate(sheet.iter_rows(), start=1):
                yield f"row {number} of sheet {name!r}", SEPARATOR.join(v for v in row if v)
    except Exception as exc:  # fastexcel raises its own error types for every failure
        raise UnreadableArtefact(f"cannot be read as XLSX ({type(exc).__name__})") from None


def text_pieces(path: Path) -> Iterator[Piece]:
    """One piece per line (logs, CSV downloads, JSON)."""
    with open(path, encoding="utf-8", errors="replace") as fh:
        for number, line in enumerate(fh, start=1):
            yield f"line {number}", line


def gzip_pieces(path: Path) -> Iterator[Piece]:
    """A compressed text file (a rotated log, a `.csv.gz` export), line by line."""
    try:
        with gzip.open(path, "rt", encoding="utf-8", errors="replace") as fh:
            for number, line in enumerate(fh, start=1):
                yield f"line {number}", line
    except (OSError, EOFError) as exc:
        raise UnreadableArtefact(f"cannot be decompressed ({type(exc).__name__})") from None


def html_pieces(path: Path) -> list[Piece]:
    return _html_pieces(path.read_text(encoding="utf-8", errors="replace"))


# Tags that end a run of text as a reader sees it; others (<b>, <a>, <span>) sit inside one.
# fmt: off
_BLOCKS = frozenset({
    "html", "head", "title", "style", "script", "body", "div", "p", "br", "hr", "table",
    "thead", "tbody", "tfoot", "tr", "td", "th", "ul", "ol", "li", "dl", "dt", "dd", "h1",
    "h2", "h3", "h4", "h5", "h6", "pre", "blockquote", "section", "header", "footer",
})
# fmt: on


class _HtmlText(HTMLParser):
    """The text of a page as a reader sees it, one piece per block (a paragraph, a cell),
    entities decoded and inline tags taken out, so `<b>Ana</b> Collins` reads whole; the
    values of each tag's attributes (links) and comments as pieces of their own. A
    generated page is often one long line, so a place is a line and a column."""

    def __init__(self, suffix: str) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[Piece] = []
        self._suffix = suffix
        self._text: list[str] = []
        self._at = ""

    def _place(self) -> str:
        line, offset = self.getpos()
        return f"line {line} column {offset + 1}{self._suffix}"

    def flush(self) -> None:
        if self._text:
            self.found.append((self._at, "".join(self._text)))
        self._text = []

    def handle_starttag(self, tag, attrs):
        if tag in _BLOCKS:
            self.flush()
        values = [value for _, value in attrs if value]
        if values:
            self.found.append((self._place(), SEPARATOR.join(values)))

    def handle_endtag(self, tag):
        if tag in _BLOCKS:
            self.flush()

    def handle_data(self, data):
        if not self._text:
            self._at = self._place()
        self._text.append(data)

    def handle_comment(self, data):
        self.found.append((self._place(), data))


def _html_pieces(markup: str, suffix: str = "") -> list[Piece]:
    parser = _HtmlText(suffix)
    parser.feed(markup)
    parser.close()
    parser.flush()
    return parser.found


def eml_pieces(path: Path) -> Iterator[Piece]:
    """Headers, then every text part decoded from its transfer encoding, line by line."""
    with open(path, "rb") as fh:
        try:
            message = email.message_from_binary_file(fh, policy=policy.default)
        except Exception as exc:  # the parser is lenient; this is a file it cannot open
            raise UnreadableArtefact(f"cannot be read as e-mail ({type(exc).__name__})") from None
    for header, value in message.items():
        yield f"header {header}", str(value)
    for number, part in enumerate(message.walk(), start=1):
        if part.get_content_maintype() != "text":
            continue
        content = part.get_content()
        where = f" of part {number} ({part.get_content_type()})"
        if part.get_content_subtype() == "html":
            yield from _html_pieces(content, where)
            continue
        for line_number, line in enumerate(content.splitlines(), start=1):
            yield f"line {line_number}{where}", line
