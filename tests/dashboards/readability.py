"""What a person reading a dashboard page or a slide would trip over, measured in the
browser: tick labels whose boxes overlap or leave their chart, tables whose headers are
raw column names, numbers printed without their unit or thousands separator, and a page
wider than its window. Used by the dashboards' readability test (every page per role)
and by the digest's link test.
"""

from __future__ import annotations

import io
import re
from pathlib import Path

from PIL import Image
from playwright.sync_api import Page

# Raw names of the marts' columns a table header must never show.
RAW_COLUMNS = {
    "payer_id", "payer_name", "claims_responded", "claims_denied", "period_start", "scope_id",
    "kpi", "rows_received", "rows_loaded", "rows_rejected", "latest_data_date",
    "column_name", "financial_class", "cpt_code", "gross_charges", "charge_lines",
    "delivery_id", "source_file", "source_line", "violation_reason", "interval_kind",
}  # fmt: skip
# A number of five digits or more with no thousands separator, or a fraction with three
# or more decimals: "411496.01", "0.12345". Ids are letters and digits (PRV0001, L01) and
# delivery numbers start with 0, so neither matches.
UNFORMATTED = re.compile(r"(?<![\w.,-])(?:[1-9]\d{4,}(?:\.\d+)?|\d+\.\d{3,})(?![\w.,%-])")

# Every tick label of every Plotly chart, by axis, with its box; and the chart's box.
_TICK_BOXES = """
() => [...document.querySelectorAll('.js-plotly-plot')].map((plot) => {
  const chart = plot.getBoundingClientRect();
  const title = (plot.querySelector('.gtitle') || {}).textContent || '';
  const axes = {};
  for (const group of plot.querySelectorAll('g.xtick, g.ytick')) {
    const text = group.querySelector('text');
    if (!text || !text.textContent.trim()) continue;
    const style = getComputedStyle(text);
    const hidden = style.display === 'none' || style.visibility === 'hidden';
    if (hidden || style.opacity === '0') continue;
    const box = text.getBoundingClientRect();
    if (box.width === 0 || box.height === 0) continue;
    const axis = group.classList.contains('xtick') ? 'x' : 'y';
    const parent = group.parentElement ? group.parentElement.getAttribute('class') : '';
    const key = axis + ':' + parent;
    (axes[key] = axes[key] || []).push(
      {text: text.textContent, left: box.left, right: box.right, top: box.top, bottom: box.bottom});
  }
  return {title, chart: {left: chart.left, right: chart.right, top: chart.top,
                         bottom: chart.bottom}, axes};
})
"""


def _overlap(a: dict, b: dict, slack: float = 1.0) -> bool:
    return (
        min(a["right"], b["right"]) - max(a["left"], b["left"]) > slack
        and min(a["bottom"], b["bottom"]) - max(a["top"], b["top"]) > slack
    )


def tick_problems(page: Page) -> list[str]:
    """Tick labels that overlap another of the same axis or stick out of their chart."""
    problems = []
    for plot in page.evaluate(_TICK_BOXES):
        chart = plot["chart"]
        for axis, boxes in plot["axes"].items():
            for i, a in enumerate(boxes):
                if (
                    a["left"] < chart["left"] - 1
                    or a["right"] > chart["right"] + 1
                    or a["top"] < chart["top"] - 1
                    or a["bottom"] > chart["bottom"] + 1
                ):
                    problems.append(f"{plot['title']!r}: {axis[0]} label {a['text']!r} is cut off")
                for b in boxes[i + 1 :]:
                    if _overlap(a, b):
                        problems.append(
                            f"{plot['title']!r}: {axis[0]} labels {a['text']!r} and "
                            f"{b['text']!r} overlap"
                        )
    return problems


def chart_count(page: Page) -> int:
    return page.locator(".js-plotly-plot").count()


def table_headers(page: Page) -> list[str]:
    """The column titles of every st.dataframe (its grid keeps an accessible table of them)."""
    return page.evaluate(
        """() => [...document.querySelectorAll('[data-testid="stDataFrame"] [role="columnheader"]')]
              .map((cell) => cell.textContent.trim()).filter(Boolean)"""
    )


def raw_headers(page: Page) -> list[str]:
    return sorted({h for h in table_headers(page) if h in RAW_COLUMNS or "_" in h})


def visible_text(page: Page) -> str:
    """The page's text as read: the main block, sidebar, charts and table grids excluded."""
    return page.evaluate(
        """() => {
          // Text nodes one per line. Charts are judged by their ticks; a table's grid draws
          // its numbers on a canvas in the column's format, while its accessible copy in
          // the DOM holds the raw values, so tables are judged by their column formats.
          const main = document.querySelector('[data-testid="stMain"]');
          if (!main) return '';
          const walker = document.createTreeWalker(main, NodeFilter.SHOW_TEXT, {
            acceptNode: (node) => node.parentElement.closest('svg, [data-testid="stDataFrame"]')
              ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT});
          const parts = [];
          while (walker.nextNode()) parts.push(walker.currentNode.textContent);
          return parts.join('\\n');
        }"""
    )


def unformatted_numbers(text: str) -> list[str]:
    return sorted(set(UNFORMATTED.findall(text)))


def horizontal_overflow(page: Page) -> int:
    """How many pixels the main block is wider than the window shows (0: none)."""
    return page.evaluate(
        """() => {
          const main = document.querySelector('[data-testid="stMain"]');
          return main ? Math.max(0, main.scrollWidth - main.clientWidth) : 0;
        }"""
    )


def small_png(data: bytes, path: Path, limit: int = 100_000, width: int = 560) -> Path:
    """A screenshot shrunk for the docs: narrower, fewer colours, under `limit` bytes."""
    image = Image.open(io.BytesIO(data)).convert("RGB")
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        scaled = image.resize((width, round(image.height * width / image.width)), Image.LANCZOS)
        quantised = scaled.quantize(colors=48, method=Image.Quantize.MEDIANCUT, dither=0)
        buffer = io.BytesIO()
        quantised.save(buffer, format="PNG", optimize=True)
        if buffer.tell() <= limit or width <= 240:
            path.write_bytes(buffer.getvalue())
            return path
        width = int(width * 0.85)
