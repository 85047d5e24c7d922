"""Measure text so that every box on a slide holds its words.

The deck names Arial; LibreOffice renders it with Liberation Sans, whose glyphs have
Arial's widths, and PowerPoint with Arial itself. Measuring with Liberation Sans (Debian's
`fonts-liberation`) therefore gives the widths both will draw.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from PIL import ImageFont

FONT_NAME = "Arial"
LINE_SPACING = 1.2  # line height / font size, with room for LibreOffice's leading
EMU_PER_PT = 12700


@cache
def _font_file(bold: bool) -> Path:
    style = "Bold" if bold else "Regular"
    found = subprocess.run(
        ["fc-match", "-f", "%{family}|%{file}", f"Liberation Sans:style={style}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    family, _, path = found.partition("|")
    if "Liberation Sans" not in family:
        raise RuntimeError("Liberation Sans is not installed (Debian package fonts-liberation)")
    return Path(path)


@cache
def _font(size_pt: float, bold: bool) -> ImageFont.FreeTypeFont:
    # Measured at 100 units per point, so widths come out in hundredths of a point.
    return ImageFont.truetype(str(_font_file(bold)), size=round(size_pt * 100))


def text_width_pt(text: str, size_pt: float, bold: bool = False) -> float:
    return _font(size_pt, bold).getlength(text) / 100


def wrap(text: str, width_pt: float, size_pt: float, bold: bool = False) -> list[str] | None:
    """Greedy word wrap; None when a single word is wider than the box."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for word in paragraph.split(" "):
            candidate = f"{line} {word}" if line else word
            if text_width_pt(candidate, size_pt, bold) <= width_pt:
                line = candidate
            elif text_width_pt(word, size_pt, bold) > width_pt:
                return None
            else:
                lines.append(line)
                line = word
        lines.append(line)
    return lines


@dataclass(frozen=True)
class Fit:
    size_pt: float
    lines: int


def fits(
    text: str, width_pt: float, height_pt: float, size_pt: float, bold=False, max_lines=None
) -> Fit | None:
    lines = wrap(text, width_pt, size_pt, bold)
    if lines is None or len(lines) * size_pt * LINE_SPACING > height_pt:
        return None
    if max_lines is not None and len(lines) > max_lines:
        return None
    return Fit(size_pt, len(lines))


def fit(
    text: str,
    width_pt: float,
    height_pt: float,
    size_pt: float,
    min_pt: float,
    bold=False,
    max_lines: int | None = None,
) -> Fit:
    """The largest size from `size_pt` down to `min_pt` at which the text fits the box."""
    size = size_pt
    while size >= min_pt:
        if found := fits(text, width_pt, height_pt, size, bold, max_lines):
            return found
        size -= 0.5
    raise ValueError(f"text does not fit its box even at {min_pt} pt: {text[:60]!r}")
