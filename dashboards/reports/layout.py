"""Slide furniture for the deck: our own boxes on blank 16:9 slides (the default
template's title box overflows at 16:9), each text measured to fit before it is placed.

Shapes are named (`title`, `subtitle`, `footer`, `note`, `table`, `chart`) so tests and
readers can find them.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from pptx import Presentation
from pptx.dml.color import RGBColor
from pptx.enum.text import MSO_ANCHOR, MSO_AUTO_SIZE, PP_ALIGN
from pptx.util import Emu, Inches, Pt

from dashboards.reports.textfit import EMU_PER_PT, FONT_NAME, fit, fits

SLIDE_W, SLIDE_H = Inches(13.333), Inches(7.5)
MARGIN = Inches(0.5)
CONTENT_W = SLIDE_W - 2 * MARGIN
BODY_TOP = Inches(1.55)
FOOTER_TOP = Inches(7.0)
TEXT_INSET = Inches(0.1)  # left/right inner margin of every text box and table cell
CELL_INSET_Y = Inches(0.03)

NAVY = "1F3A5F"
INK = "222222"
MUTED = "5C6B7A"
WHITE = "FFFFFF"
ROW_FILLS = ("FFFFFF", "F2F5F8")
GOOD, BAD, NEUTRAL = "1E7B4F", "B03A2E", "5C6B7A"
GOOD_FILL, BAD_FILL, NEUTRAL_FILL = "DFF1E7", "F8E0DC", "ECEFF3"


def pt(emu: int) -> float:
    return emu / EMU_PER_PT


@dataclass(frozen=True)
class Cell:
    """A table cell's text and looks."""

    text: str
    bold: bool = False
    color: str = INK
    fill: str | None = None
    align: str = "left"


_ALIGN = {"left": PP_ALIGN.LEFT, "right": PP_ALIGN.RIGHT, "center": PP_ALIGN.CENTER}


class DeckLayout:
    def __init__(self, footer: str):
        self.prs = Presentation()
        self.prs.slide_width, self.prs.slide_height = SLIDE_W, SLIDE_H
        self.footer = footer

    def slide(self, title: str, subtitle: str | None = None):
        slide = self.prs.slides.add_slide(self.prs.slide_layouts[6])
        self.text(
            slide,
            "title",
            title,
            MARGIN,
            Inches(0.35),
            CONTENT_W,
            Inches(0.7),
            28,
            20,
            bold=True,
            color=NAVY,
        )
        if subtitle:
            self.text(
                slide,
                "subtitle",
                subtitle,
                MARGIN,
                Inches(1.0),
                CONTENT_W,
                Inches(0.4),
                15,
                11,
                color=MUTED,
            )
        page = len(self.prs.slides)
        self.text(
            slide,
            "footer",
            f"{self.footer}  ·  {page}",
            MARGIN,
            FOOTER_TOP,
            CONTENT_W,
            Inches(0.32),
            10,
            8,
            color=MUTED,
        )
        return slide

    def text(
        self,
        slide,
        name: str,
        text: str,
        left,
        top,
        width,
        height,
        size: float,
        min_size: float,
        *,
        bold=False,
        color=INK,
        align="left",
        anchor=MSO_ANCHOR.TOP,
    ):
        inner_w = pt(width - 2 * TEXT_INSET)
        found = fit(text, inner_w, pt(height - 2 * CELL_INSET_Y), size, min_size, bold)
        box = slide.shapes.add_textbox(left, top, width, height)
        box.name = name
        frame = box.text_frame
        frame.word_wrap = True
        frame.auto_size = MSO_AUTO_SIZE.NONE
        frame.vertical_anchor = anchor
        frame.margin_left = frame.margin_right = TEXT_INSET
        frame.margin_top = frame.margin_bottom = CELL_INSET_Y
        for i, line in enumerate(text.split("\n")):
            para = frame.paragraphs[0] if i == 0 else frame.add_paragraph()
            para.alignment = _ALIGN[align]
            _run(para, line, found.size_pt, bold, color)
        return box

    def table(
        self,
        slide,
        rows: list[list[Cell]],
        widths_in: list[float],
        left,
        top,
        row_h_in: float,
        size: float,
        min_size: float,
    ):
        """Every cell holds one line; the whole table shrinks together when one cell
        would not fit, so that its columns read at one size."""
        widths = [Inches(w) for w in widths_in]
        row_h = Inches(row_h_in)
        size = min(
            fit(
                cell.text,
                pt(w - 2 * TEXT_INSET),
                pt(row_h - 2 * CELL_INSET_Y),
                size,
                min_size,
                cell.bold,
                max_lines=1,
            ).size_pt
            for row in rows
            for cell, w in zip(row, widths, strict=True)
        )
        shape = slide.shapes.add_table(
            len(rows), len(widths), left, top, sum(widths), row_h * len(rows)
        )
        shape.name = "table"
        table = shape.table
        table.first_row = False
        table.horz_banding = False
        for j, w in enumerate(widths):
            table.columns[j].width = Emu(w)
        for i, row in enumerate(rows):
            table.rows[i].height = row_h
            for j, spec in enumerate(row):
                cell = table.cell(i, j)
                cell.fill.solid()
                cell.fill.fore_color.rgb = RGBColor.from_string(spec.fill or ROW_FILLS[i % 2])
                cell.margin_left = cell.margin_right = TEXT_INSET
                cell.margin_top = cell.margin_bottom = CELL_INSET_Y
                cell.vertical_anchor = MSO_ANCHOR.MIDDLE
                frame = cell.text_frame
                frame.word_wrap = False
                para = frame.paragraphs[0]
                para.alignment = _ALIGN[spec.align]
                _run(para, spec.text, size, spec.bold, spec.color)
        return table

    def picture(self, slide, png: bytes, left, top, width, height):
        pic = slide.shapes.add_picture(io.BytesIO(png), left, top, width, height)
        pic.name = "chart"
        return pic

    def save(self, path) -> None:
        self.prs.save(str(path))


def _run(para, text: str, size: float, bold: bool, color: str) -> None:
    run = para.add_run()
    run.text = text
    font = run.font
    font.name = FONT_NAME
    font.size = Pt(size)
    font.bold = bold
    font.color.rgb = RGBColor.from_string(color)


def overflows(prs) -> list[str]:
    """Every text box or table cell of a saved deck whose text would not fit, measured
    again from the file itself (box geometry, margins and font sizes as saved)."""
    problems = []
    for number, slide in enumerate(prs.slides, start=1):
        for shape in slide.shapes:
            if shape.has_text_frame:
                frame = shape.text_frame
                run = frame.paragraphs[0].runs[0]
                width = pt(shape.width - frame.margin_left - frame.margin_right)
                height = pt(shape.height - frame.margin_top - frame.margin_bottom)
                if not fits(frame.text, width, height, run.font.size.pt, bool(run.font.bold)):
                    problems.append(f"slide {number} {shape.name}: {frame.text[:50]!r}")
            if shape.has_table:
                table = shape.table
                for i, row in enumerate(table.rows):
                    for j, column in enumerate(table.columns):
                        cell = table.cell(i, j)
                        run = cell.text_frame.paragraphs[0].runs[0]
                        width = pt(column.width - cell.margin_left - cell.margin_right)
                        height = pt(row.height - cell.margin_top - cell.margin_bottom)
                        if not fits(
                            cell.text_frame.text,
                            width,
                            height,
                            run.font.size.pt,
                            bool(run.font.bold),
                            max_lines=1,
                        ):
                            problems.append(
                                f"slide {number} table cell ({i}, {j}): {cell.text_frame.text!r}"
                            )
    return problems
