"""XLSX cells whose value a reader would load wrongly, found in the sheet's XML.

The spreadsheet reader (calamine) returns a cell's cached value and nothing else, so
three kinds of cell would load as a silent wrong value:
- a formula whose result was never calculated: programs that write XLSX without a
  calculation engine (XlsxWriter, openpyxl) store no result, or 0 with a flag asking
  Excel to recompute on open (`fullCalcOnLoad`); a $240 charge loaded as $0.00;
- an Excel error (`#DIV/0!`, `#N/A`, …), which reads as an empty cell and was reported
  as a missing value;
- TRUE/FALSE, which a numeric column reads as 1/0 (no contract column is a yes/no).

`cell_problems` names each such cell by its row, so that landing rejects that row with
the reason (files.py puts it in `_problem`). The sheet is scanned as a byte stream, in
bounded memory, looking only at cells that carry a type or a formula.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from pathlib import Path
from xml.etree import ElementTree

_CHUNK = 8 * 1024 * 1024
_NS = {
    "m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
    "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
    "rel": "http://schemas.openxmlformats.org/package/2006/relationships",
}
# One cell: its reference, its attributes and its content (formula, value, inline text).
_CELL = re.compile(rb"<c\b([^>]*?)(?:/>|>(.*?)</c>)", re.DOTALL)
_REF = re.compile(rb'\br="([A-Z]+)([0-9]+)"')
_TYPE = re.compile(rb'\bt="([a-z]+)"')
_VALUE = re.compile(rb"<v>([^<]*)</v>")
_INTERESTING = re.compile(rb'<c\b[^>]*\bt="[be]"|<f\b')


def _column_index(letters: bytes) -> int:
    index = 0
    for char in letters:
        index = index * 26 + (char - 64)
    return index - 1


def _sheet_member(book: zipfile.ZipFile, sheet: str | None) -> str | None:
    """The zip member of the named sheet, or of the first one."""
    workbook = ElementTree.fromstring(book.read("xl/workbook.xml"))
    sheets = workbook.findall("m:sheets/m:sheet", _NS)
    chosen = next((s for s in sheets if sheet is None or s.get("name") == sheet), None)
    if chosen is None:
        return None
    rel_id = chosen.get(f"{{{_NS['r']}}}id")
    rels = ElementTree.fromstring(book.read("xl/_rels/workbook.xml.rels"))
    for rel in rels.findall("rel:Relationship", _NS):
        if rel.get("Id") == rel_id:
            target = rel.get("Target", "")
            if target.startswith("/"):
                return target.lstrip("/")
            return posixpath.normpath(posixpath.join("xl", target))
    return None


def _recalculated_on_open(book: zipfile.ZipFile) -> bool:
    """The writer computed no formula results and asks Excel to do it on open."""
    return b'fullCalcOnLoad="1"' in book.read("xl/workbook.xml")


def _cells(book: zipfile.ZipFile, member: str):
    """(column letters, row, attributes, content) of each cell with a type or a formula."""
    with book.open(member) as stream:
        pending = b""
        while True:
            block = stream.read(_CHUNK)
            data = pending + block
            end = len(data) if not block else data.rfind(b"</c>") + 4
            if block and end < 4:
                pending = data
                continue
            if not _INTERESTING.search(data, 0, end):  # most sheets: nothing to look at
                pending = data[end:]
                if not block:
                    return
                continue
            for match in _CELL.finditer(data, 0, end):
                attrs, content = match.group(1), match.group(2) or b""
                if not _INTERESTING.search(b"<c " + attrs + b">" + content):
                    continue
                ref = _REF.search(attrs)
                if ref:
                    yield ref.group(1), int(ref.group(2)), attrs, content
            if not block:
                return
            pending = data[end:]


def first_row_and_column(book: zipfile.ZipFile, member: str) -> tuple[int, int]:
    """The sheet's used range starts here (the header row, the first column), from <dimension>."""
    with book.open(member) as stream:
        head = stream.read(64 * 1024)
    found = re.search(rb'<dimension ref="([A-Z]+)([0-9]+)', head)
    if not found:
        return 1, 0
    return int(found.group(2)), _column_index(found.group(1))


def cell_problems(
    path: Path, sheet: str | None, columns: list[str], only: set[str]
) -> dict[int, str]:
    """{line: reason} for rows holding a cell that would load as a wrong value.

    `columns` are the frame's column names in sheet order (the header row), so that a
    cell is named by its column, and only cells under the names in `only` (the contract's
    columns) count; lines follow files.py (the spreadsheet row number when the header is
    in row 1).
    """
    try:
        book = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile):
        return {}  # the reader itself reports a file that is no workbook
    with book:
        try:
            member = _sheet_member(book, sheet)
        except (KeyError, ElementTree.ParseError):
            return {}
        if member is None:
            return {}
        stale = _recalculated_on_open(book)
        header_row, first_column = first_row_and_column(book, member)
        problems: dict[int, str] = {}
        for letters, row, attrs, content in _cells(book, member):
            index = _column_index(letters) - first_column
            if row <= header_row or not 0 <= index < len(columns) or columns[index] not in only:
                continue
            line = row - header_row + 1
            name = columns[index]
            kind = _TYPE.search(attrs)
            cell = f"{name} (cell {letters.decode()}{row})"
            value = _VALUE.search(content)
            if kind and kind.group(1) == b"e":
                error = value.group(1).decode(errors="replace") if value else "an error"
                reason = f"{cell} holds the Excel error {error}; fix the formula at the source"
            elif b"<f" in content and (stale or not value or not value.group(1)):
                reason = (
                    f"{cell} holds a formula whose result was never calculated (the file was "
                    "written by a program that does not compute formulas); open and save it "
                    "in Excel or LibreOffice, or export values"
                )
            elif kind and kind.group(1) == b"b":
                reason = f"{cell} holds TRUE/FALSE, which is not a value of this column"
            else:
                continue
            problems.setdefault(line, reason)
        return problems
