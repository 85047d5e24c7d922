"""The board pack's newer parts: a fiscal-year deck, changes a board can read (points for
rates, units for days, money against a loss, none for a partial period), the manager's
commentary (saved from the dashboard, audited, printed on its slide), a data-quality slide
in plain words, and every slide's text inside its box. The PDF's pages are kept as small
PNGs for docs/reports.md (test-artifacts/reports/board-pack/)."""

from __future__ import annotations

import json
import re
import subprocess

import duckdb
import pytest
from pptx import Presentation

from dashboards.access import Principal, Role, acting_as
from dashboards.data.serving import read_serving
from dashboards.reports.commentary import (
    MAX_CHARS,
    commentary_path,
    read_commentary,
    save_commentary,
)
from dashboards.reports.deck import _STATUS_SHOWN, EXECUTIVE_KPIS, DeckOptions, build_deck
from dashboards.reports.figures import Cell
from dashboards.reports.formatting import DASH, change
from dashboards.reports.layout import overflows
from dashboards.reports.periods import parse_period
from tests.conftest import PROJECT_ROOT
from tests.dashboards.readability import small_png

MANAGER = Principal("test:manager", Role.MANAGER)
SHOTS = PROJECT_ROOT / "test-artifacts" / "reports" / "board-pack"
COMMENT = (
    "October was steady: visits held at plan while the new front-desk rota cut no-shows. "
    "Collections trail budget because one payer paused remittances; they resumed in November."
)


def test_fiscal_years_parse_from_the_configured_start_month():
    calendar = parse_period("FY2026")
    assert (calendar.start.isoformat(), calendar.months, calendar.label) == (
        "2026-01-01",
        12,
        "FY2026",
    )
    july = parse_period("FY2026", fiscal_start_month=7)
    assert july.start.isoformat() == "2025-07-01" and july.end.isoformat() == "2026-06-30"
    with pytest.raises(ValueError, match="fiscal year"):
        parse_period("2026")


@pytest.mark.parametrize(
    ("now", "before", "unit", "partial", "shown"),
    [
        (0.05, 0.07, "share", False, "−2.0 pp"),
        (2.0, 1.0, "days", False, "+1.0 days"),  # not "+100.0%"
        (12_000.0, -3_400.0, "money", False, "+$15k"),  # not "+452.9%" against a loss
        (1_100.0, 1_000.0, "visits", False, "+10.0%"),
        (5.0, 0.0, "visits", False, DASH),  # no percent of zero
        (1_100.0, 1_000.0, "visits", True, DASH),  # a partial period is not compared
    ],
)
def test_changes_read_as_a_board_reads_them(now, before, unit, partial, shown):
    assert change(Cell(now), Cell(before), unit, partial)[0] == shown


def test_commentary_is_the_managers_saved_atomically_and_audited(tmp_path):
    path = save_commentary(tmp_path, "2026-10", f"  {COMMENT}\n", MANAGER)
    assert path == commentary_path(tmp_path, "2026-10")
    assert read_commentary(tmp_path, "2026-10") == COMMENT
    log = [json.loads(line) for line in (tmp_path / "audit" / "audit.jsonl").read_text().split()]
    saved = [r for r in log if r["event"] == "commentary_saved"]
    assert saved[-1]["period"] == "2026-10" and saved[-1]["chars"] == len(COMMENT)
    assert COMMENT not in json.dumps(log)  # the log records the save, not the words
    with pytest.raises(PermissionError):
        save_commentary(
            tmp_path, "2026-10", "x", Principal("test:doc", Role.PHYSICIAN, provider_id="PRV0002")
        )
    with pytest.raises(ValueError, match="characters"):
        save_commentary(tmp_path, "2026-10", "x" * (MAX_CHARS + 1), MANAGER)
    save_commentary(tmp_path, "2026-10", "", MANAGER)
    assert read_commentary(tmp_path, "2026-10") == ""


@pytest.fixture(scope="module")
def pack_home(sample_home, tmp_path_factory):
    """A home over the sample's serving file, with the manager's October commentary."""
    home = tmp_path_factory.mktemp("pack")
    (home / "serving.duckdb").symlink_to(sample_home.serving)
    save_commentary(home, "2026-10", COMMENT, MANAGER)
    return home


def _slides(pptx) -> list[tuple[str, str]]:
    prs = Presentation(str(pptx))
    return [
        (
            slide.shapes[0].text_frame.text,
            "\n".join(
                shape.text_frame.text
                if shape.has_text_frame
                else "\n".join(c.text_frame.text for row in shape.table.rows for c in row.cells)
                if shape.has_table
                else ""
                for shape in slide.shapes
            ),
        )
        for slide in prs.slides
    ]


def test_month_pack_carries_the_commentary_and_plain_words(pack_home):
    with acting_as(MANAGER):
        result = build_deck(
            pack_home / "serving.duckdb",
            parse_period("2026-10"),
            pack_home / "reports" / "board-2026-10",
            DeckOptions("Sample Family Practice"),
        )
    slides = _slides(result.pptx)
    titles = [title for title, _ in slides]
    assert titles[:3] == ["Sample Family Practice", "Executive summary", "Manager's commentary"]
    assert COMMENT in slides[2][1]
    # The appendix defines each measure as the KPI catalog does, the budget lines once.
    appendix = "\n".join(text for title, text in slides if title == "Appendix: definitions")
    with acting_as(MANAGER):
        catalog = read_serving(pack_home / "serving.duckdb").catalog
    for kpi in ("days_in_ar", "ar_credit_balance", "staff_turnover_rate"):
        entry = catalog.entry(kpi)
        assert f"{entry.label}: {entry.description}" in appendix, kpi
    assert appendix.count("Budget variance") == 1
    # Credit balances stand apart from the aging on the revenue slide.
    revenue = next(text for title, text in slides if title == "Revenue cycle")
    assert catalog.label("ar_credit_balance") in revenue
    every_word = "\n".join(text for _, text in slides)
    for engineer_words in ("orphan", "KPI_SPEC", "kpi_targets.md", "appointments.", "_at "):
        assert engineer_words not in every_word, engineer_words
    assert overflows(Presentation(str(result.pptx))) == []
    pages = subprocess.run(
        ["pdftoppm", "-r", "50", "-png", str(result.pdf), str(pack_home / "page")], check=True
    )
    assert pages.returncode == 0
    shots = sorted(pack_home.glob("page-*.png"))
    assert len(shots) == len(titles)
    for index, shot in enumerate(shots, start=1):
        small = small_png(shot.read_bytes(), SHOTS / f"slide-{index:02d}.png", width=480)
        assert small.stat().st_size <= 100_000


def test_a_partial_fiscal_year_is_labelled_and_shows_no_change(pack_home):
    with acting_as(MANAGER):
        result = build_deck(
            pack_home / "serving.duckdb",
            parse_period("FY2026"),
            pack_home / "reports" / "board-FY2026",
            DeckOptions("Sample Family Practice"),
        )
    slides = _slides(result.pptx)
    assert "Annual board report: FY2026 (partial" in slides[0][1]
    summary = Presentation(str(result.pptx)).slides[1]
    table = next(s for s in summary.shapes if s.has_table).table
    header = [c.text_frame.text for c in table.rows[0].cells]
    assert header[4:] == ["vs FY2025", "vs FY2025"]
    rows = [[c.text_frame.text for c in row.cells] for row in list(table.rows)[1:]]
    # Net collection rate reads a complete service month (90 days back), which compares.
    changes = [text for row in rows if "services)" not in row[0] for text in row[4:]]
    assert changes and set(changes) <= {DASH, "n<11"}, rows
    # The status is the fiscal year's own kpi_status row, not its first month's.
    with duckdb.connect(str(pack_home / "serving.duckdb"), read_only=True) as con:
        status = dict(
            con.sql(
                "select kpi, status from marts.kpi_status where period_grain = 'year' "
                "and period_start = '2026-01-01' and scope = 'practice'"
            ).fetchall()
        )
    # (the net collection rate is a month's: it has no fiscal-year row)
    shown = [
        (kpi, row[3])
        for kpi, row in zip(EXECUTIVE_KPIS, rows, strict=True)
        if kpi != "net_collection_rate"
    ]
    assert shown == [(kpi, _STATUS_SHOWN[status[kpi]][0]) for kpi, _ in shown]
    assert len({text for _, text in shown}) > 1  # judged rows, not one blanket label
    assert overflows(Presentation(str(result.pptx))) == []
    assert not re.search(r"\d+\.\d{3,}", "\n".join(text for _, text in slides))


def test_every_deck_chart_has_level_ticks_that_do_not_overlap(pack_home):
    """Each chart of the deck, at the size it is placed on its slide, laid out by Plotly in
    Chromium, and its tick labels measured as on the dashboards."""
    from dashboards.reports.deck import _Deck
    from tests.access.browser import chromium
    from tests.dashboards.readability import tick_problems

    class Collect:  # stands in for kaleido: keeps each figure and its size
        figures: list = []

        def png(self, figure, width_in, height_in):
            figure.update_layout(width=round(width_in * 96), height=round(height_in * 96))
            self.figures.append(figure)
            return b""

    with acting_as(MANAGER):
        deck = _Deck(
            read_serving(pack_home / "serving.duckdb"),
            parse_period("2026-10"),
            DeckOptions("Sample Family Practice"),
        )
        renderer = Collect()
        for chart in (
            deck.access_chart,
            deck.productivity_chart,
            deck.aging_chart,
            deck.cost_chart,
        ):
            chart(renderer)
        renderer.png(deck.budget_figure(deck.trend_months()[-10:]), 4.55, 4.2)
    problems = []
    with chromium() as browser:
        page = browser.new_page()
        for figure in renderer.figures:
            page.set_content(figure.to_html(include_plotlyjs=True, full_html=True))
            page.wait_for_timeout(800)
            problems += tick_problems(page)
    assert len(renderer.figures) == 5
    assert problems == []
