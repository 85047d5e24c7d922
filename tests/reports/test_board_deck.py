"""The board deck on the sample: built by its Dagster asset (last complete month) and by
`clinicops deck` (a quarter); slides, titles and numbers against `kpi_values`, small
cells suppressed, text inside its boxes, and the PDF's pages kept as PNG artefacts."""

import subprocess
from datetime import date
from pathlib import Path

import duckdb
import pytest
from dagster import materialize
from pptx import Presentation

from dashboards.access.principal import Principal, Role, acting_as
from dashboards.data.serving import read_serving
from dashboards.reports.deck import DeckOptions, _Deck
from dashboards.reports.figures import Cell
from dashboards.reports.formatting import change, value_text
from dashboards.reports.layout import overflows
from dashboards.reports.periods import parse_period
from pipelines.orchestrate.defs.reports import board_deck
from pipelines.orchestrate.defs.resources import ClinicopsResource
from tests.conftest import PROJECT_ROOT, clinicops_command

ARTIFACTS = PROJECT_ROOT / "test-artifacts" / "reports"
TITLES = [
    "Sample Family Practice",
    "Executive summary",
    "Access and patient flow",
    "Provider productivity",
    "Revenue cycle",
    "Cost and staffing",
    "P&L against budget",
    "Budget vs actual, with the year's forecast",
    "Data quality",
    # every measure shown, defined from the KPI catalog: 32 definitions, 12 a slide
    *["Appendix: definitions"] * 3,
]


def _month_rows(home, kpi: str, *months: date) -> list[tuple]:
    with duckdb.connect(str(home.serving), read_only=True) as con:
        return con.sql(
            "select value, numerator, denominator from marts.kpi_values where kpi = ? and "
            "period_grain = 'month' and scope = 'practice' and list_contains(?, period_start) "
            "order by period_start",
            params=[kpi, list(months)],
        ).fetchall()


def _quarter_value(home, kpi: str, start: date) -> float | None:
    with duckdb.connect(str(home.serving), read_only=True) as con:
        ((value,),) = con.sql(
            "select value from marts.kpi_values where kpi = ? and period_grain = 'quarter' "
            "and scope = 'practice' and period_start = ?",
            params=[kpi, start],
        ).fetchall()
    return value


def _unit(home, kpi: str) -> str:
    with duckdb.connect(str(home.serving), read_only=True) as con:
        return con.sql("select unit from marts.kpi_targets where kpi = ?", params=[kpi]).fetchall()[
            0
        ][0]


def _table(slide) -> list[list[str]]:
    table = next(s for s in slide.shapes if s.has_table).table
    return [[cell.text_frame.text for cell in row.cells] for row in table.rows]


def _rows_by_label(slide) -> dict[str, list[str]]:
    return {row[0]: row[1:] for row in _table(slide)[1:]}


def _pages(pdf: Path, name: str) -> list[Path]:
    folder = ARTIFACTS / name
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("page-*.png"):
        old.unlink()
    subprocess.run(["pdftoppm", "-r", "60", "-png", str(pdf), str(folder / "page")], check=True)
    return sorted(folder.glob("page-*.png"))


def _pdf_text(pdf: Path, page: int) -> str:
    return subprocess.run(
        ["pdftotext", "-f", str(page), "-l", str(page), "-layout", str(pdf), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def _metadata(result):
    (event,) = result.get_asset_materialization_events()
    return event.materialization.metadata


@pytest.fixture(scope="module")
def month_deck(sample_home):
    resource = ClinicopsResource(home=str(sample_home.root), inbox="")
    first = materialize([board_deck], resources={"clinicops": resource})
    again = materialize([board_deck], resources={"clinicops": resource})
    return sample_home, first, again


@pytest.fixture(scope="module")
def quarter_deck(sample_home, tmp_path_factory):
    out = tmp_path_factory.mktemp("deck") / "board-q3"
    proc = subprocess.run(
        [
            clinicops_command(),
            "deck",
            "--home",
            str(sample_home.root),
            "--period",
            "2026-Q3",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    return sample_home, out


def test_asset_builds_the_last_complete_month_once(month_deck):
    home, first, again = month_deck
    assert first.success and again.success
    meta = _metadata(first)
    assert meta["built"].value is True and meta["period"].value == "2026-10"
    assert _metadata(again)["built"].value is False
    assert (home.root / "reports" / "board-2026-10.pptx").exists()
    assert (home.root / "reports" / "board-2026-10.pdf").exists()


def test_month_deck_numbers_are_the_published_ones(month_deck):
    home = month_deck[0]
    prs = Presentation(str(home.root / "reports" / "board-2026-10.pptx"))
    assert [s.shapes[0].text_frame.text for s in prs.slides] == TITLES
    summary = _rows_by_label(prs.slides[1])
    oct_, sep, oct_25 = date(2026, 10, 1), date(2026, 9, 1), date(2025, 10, 1)
    for kpi, label in [
        ("completed_visits", "Completed visits"),
        ("payments", "Payments (collections)"),
        ("operating_margin_pct", "Operating margin %"),
        ("cost_per_visit", "Cost per visit"),
        ("days_in_ar", "Days in A/R"),
        ("no_show_rate", "No-show rate"),
        ("work_rvus_per_provider_fte", "wRVUs per provider FTE"),
    ]:
        unit = _unit(home, kpi)
        (now,), (before,), (year_ago,) = (_month_rows(home, kpi, m) for m in (oct_, sep, oct_25))
        assert summary[label][0] == value_text(now[0], unit), label
        # Changes are stated from the same rows: vs the prior month and vs a year earlier.
        assert summary[label][3] == change(Cell(*now), Cell(*before), unit)[0], label
        assert summary[label][4] == change(Cell(*now), Cell(*year_ago), unit)[0], label
    # The newest net collection cohort is July: 90 days before the as-of date.
    (ncr,) = _month_rows(home, "net_collection_rate", date(2026, 7, 1))
    assert summary["Net collection rate (Jul 2026 services)"][0] == value_text(ncr[0], "share")
    assert summary["No-show rate"][2] in ("On target", "Off target")


def test_small_cells_are_suppressed_and_the_slide_says_so(month_deck):
    home = month_deck[0]
    prs = Presentation(str(home.root / "reports" / "board-2026-10.pptx"))
    cost = prs.slides[5]
    ((value, terminations, _),) = _month_rows(home, "staff_turnover_rate", date(2026, 10, 1))
    assert 0 < terminations < 11  # the sample has a handful of leavers a month
    row = _rows_by_label(cost)["Staff turnover (annualised)"]
    assert row[0] == "n<11" and row[2] in ("n<11", "–")
    text = " ".join(s.text_frame.text for s in cost.shapes if s.has_text_frame)
    assert "n<11: a count of 1–10" in text
    assert value_text(value, "share per year") not in text + " ".join(sum(_table(cost), []))
    visits = _rows_by_label(prs.slides[3])["Completed visits"][0]
    assert visits != "n<11"  # thousands of visits are shown


def test_no_provider_ids_and_text_fits_in_every_box(month_deck):
    home = month_deck[0]
    pptx = home.root / "reports" / "board-2026-10.pptx"
    prs = Presentation(str(pptx))
    assert overflows(prs) == []
    every_text = " ".join(
        shape.text_frame.text
        for slide in prs.slides
        for shape in slide.shapes
        if shape.has_text_frame
    )
    assert "PRV" not in every_text


def test_pdf_has_the_deck_pages(month_deck):
    home = month_deck[0]
    pdf = home.root / "reports" / "board-2026-10.pdf"
    pages = _pages(pdf, "month-2026-10")
    assert len(pages) == len(TITLES)
    assert all(p.stat().st_size > 10_000 for p in pages)  # charts and tables, not blanks
    summary = _pdf_text(pdf, 2)
    assert "Executive summary" in summary
    ((visits, _, _),) = _month_rows(home, "completed_visits", date(2026, 10, 1))
    assert value_text(visits, "visits") in summary


def test_a_quarter_shows_its_own_published_figures(quarter_deck):
    """The deck combines no months: each figure is the quarter's own kpi_values row, which
    dbt computed from its definition over the quarter (a median included)."""
    home, out = quarter_deck
    prs = Presentation(str(out) + ".pptx")
    assert overflows(prs) == []
    summary = _rows_by_label(prs.slides[1])
    q3 = date(2026, 7, 1)
    for label, kpi, unit in (
        ("Completed visits", "completed_visits", "visits"),
        ("Days in A/R", "days_in_ar", "days"),
        ("No-show rate", "no_show_rate", "share"),
    ):
        assert summary[label][0] == value_text(_quarter_value(home, kpi, q3), unit), label
    access = _rows_by_label(prs.slides[2])
    lobby = _quarter_value(home, "lobby_wait_min_p50", q3)
    assert access["Lobby wait (median)"][0] == value_text(lobby, "minutes")
    assert len(_pages(Path(str(out) + ".pdf"), "quarter-2026-Q3")) == len(TITLES)


class _KeepFigure:
    """A chart renderer that keeps the figure instead of drawing it."""

    def png(self, figure, width_in, height_in) -> bytes:
        self.figure = figure
        return b""


@pytest.mark.parametrize(
    ("role", "title", "labels"),
    [
        (Role.MANAGER, "wRVUs per FTE by provider (anonymised, ranked)", "#1"),
        # The board reads no provider rows: its deck ranks the locations instead.
        (Role.BOARD, "wRVUs per FTE by location", "Lakeview Family Medicine"),
    ],
)
def test_productivity_chart_shows_what_the_reader_may_read(sample_home, role, title, labels):
    with acting_as(Principal(f"test:{role}", role)):
        serving = read_serving(sample_home.serving)
    deck = _Deck(serving, parse_period("2026-10"), DeckOptions("Sample Family Practice"))
    renderer = _KeepFigure()
    deck.productivity_chart(renderer)
    assert renderer.figure.layout.title.text == title
    bars = renderer.figure.data[0]
    assert labels in bars.x and all(v > 0 for v in bars.y)
    assert not [x for x in bars.x if str(x).startswith("PRV")]


@pytest.mark.parametrize(("role", "pointed"), [(Role.MANAGER, True), (Role.BOARD, False)])
def test_data_quality_slide_points_only_to_a_page_the_reader_may_open(sample_home, role, pointed):
    with acting_as(Principal(f"test:{role}", role)):
        serving = read_serving(sample_home.serving)
        deck = _Deck(serving, parse_period("2026-10"), DeckOptions("Sample Family Practice"))
        deck.data_quality()
    (slide,) = deck.layout.prs.slides
    text = " ".join(s.text_frame.text for s in slide.shapes if s.has_text_frame)
    assert "Checked after loading:" in text
    assert ("dashboard's data-quality page" in text) is pointed
