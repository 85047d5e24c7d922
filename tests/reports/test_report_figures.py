"""Report periods, each read from its own published grain, and small-cell suppression."""

from datetime import date

import polars as pl
import pytest

from dashboards.reports.figures import KpiTable
from dashboards.reports.formatting import band_text, cell_text, change
from dashboards.reports.periods import last_complete_month, parse_period
from dashboards.reports.textfit import fit, text_width_pt, wrap

JUL, AUG, SEP = date(2026, 7, 1), date(2026, 8, 1), date(2026, 9, 1)


def _rows(*rows, grain: str = "month") -> pl.DataFrame:
    return pl.DataFrame(
        [(grain, start, "practice", "all", kpi, v, n, d) for kpi, start, v, n, d in rows],
        schema=[
            "period_grain",
            "period_start",
            "scope",
            "scope_id",
            "kpi",
            "value",
            "numerator",
            "denominator",
        ],
        orient="row",
    )


def test_periods_parse_and_compare():
    q3 = parse_period("2026-Q3")
    assert q3.month_starts == [JUL, AUG, SEP] and q3.end == date(2026, 9, 30)
    assert q3.prior().code == "2026-Q2" and q3.year_ago().code == "2025-Q3"
    assert parse_period("2026-01").prior().code == "2025-12"
    assert last_complete_month(date(2026, 11, 22)).code == "2026-10"
    assert last_complete_month(date(2026, 11, 30)).code == "2026-11"
    for bad in ("2026-13", "2026-Q5", "Q3 2026", ""):
        with pytest.raises(ValueError, match="is not a month"):
            parse_period(bad)


def test_a_quarter_and_a_year_are_read_from_their_own_rows_not_from_months():
    months = _rows(
        ("completed_visits", JUL, 100.0, 100.0, None),
        ("completed_visits", AUG, 200.0, 200.0, None),
        ("no_show_rate", JUL, 0.5, 50.0, 100.0),
        ("cycle_time_min_p50", JUL, 30.0, None, None),
    )
    quarter = _rows(
        ("completed_visits", JUL, 612.0, 612.0, None),  # dbt's figure, whatever the months say
        ("no_show_rate", JUL, 0.2, 80.0, 400.0),
        ("cycle_time_min_p50", JUL, 33.5, None, None),  # a quarter's median is published
        grain="quarter",
    )
    year = _rows(("completed_visits", date(2026, 1, 1), 2400.0, 2400.0, None), grain="year")
    table = KpiTable(pl.concat([months, quarter, year]))
    q3 = parse_period("2026-Q3")
    assert table.cell("completed_visits", q3).value == 612
    assert table.cell("no_show_rate", q3).value == 0.2
    assert table.cell("cycle_time_min_p50", q3).value == 33.5
    assert table.cell("completed_visits", parse_period("FY2026")).value == 2400
    assert not table.cell("completed_visits", parse_period("2026-10")).present
    assert table.cell("no_show_rate", parse_period("2026-07")).value == 0.5
    assert not table.cell("days_in_ar", q3).present  # no quarter row: nothing is rebuilt


def test_small_cells_and_what_is_built_on_them_are_suppressed():
    table = KpiTable(
        _rows(
            ("completed_visits", JUL, 7.0, 7.0, None),
            ("cycle_time_min_p50", JUL, 31.0, None, None),
            ("cost_per_visit", JUL, 500.0, 3500.0, 7.0),
            ("no_show_rate", JUL, 0.3, 3.0, 10.0),
            ("staff_turnover_rate", JUL, 0.0, 0.0, 3.4),  # zero is not a small cell
            ("payments", JUL, 9.0, 9.0, None),  # money, not a count
            ("completed_visits", AUG, 11.0, 11.0, None),
        )
    )
    jul, aug = parse_period("2026-07"), parse_period("2026-08")
    for kpi in ("completed_visits", "cycle_time_min_p50", "cost_per_visit", "no_show_rate"):
        cell = table.cell(kpi, jul)
        assert cell.suppressed and cell.shown is None, kpi
        assert cell_text(cell, "share") == "n<11"
    for kpi in ("staff_turnover_rate", "payments"):
        assert not table.cell(kpi, jul).suppressed, kpi
    assert not table.cell("completed_visits", aug).suppressed
    assert change(
        table.cell("completed_visits", aug), table.cell("completed_visits", jul), "visits"
    ) == ("n<11", None)


def test_formatting_of_bands_and_changes():
    assert band_text(30.0, 40.0, "days") == "30.0 – 40.0 days"
    assert band_text(None, 0.0681, "share") == "≤ 6.8%"
    assert band_text(None, None, "money") == "no published band"
    table = KpiTable(
        _rows(("no_show_rate", JUL, 0.07, 70.0, 1000.0), ("no_show_rate", AUG, 0.05, 50.0, 1000.0))
    )
    text, delta = change(
        table.cell("no_show_rate", parse_period("2026-08")),
        table.cell("no_show_rate", parse_period("2026-07")),
        "share",
    )
    assert text == "−2.0 pp" and delta == pytest.approx(-0.02)


def test_text_is_measured_wrapped_and_shrunk_to_fit():
    assert text_width_pt("WWWW", 20) > text_width_pt("iiii", 20) * 2
    lines = wrap("a few short words", 60, 12)
    assert len(lines) == 2 and " ".join(lines) == "a few short words"
    assert all(text_width_pt(line, 12) <= 60 for line in lines)
    assert wrap("Incomprehensibilities", 30, 12) is None
    found = fit("Net collection rate (Jul 2026 services)", 180, 20, 16, 8)
    assert found.lines == 1 and found.size_pt < 16
    assert text_width_pt("Net collection rate (Jul 2026 services)", found.size_pt) <= 180
    with pytest.raises(ValueError, match="does not fit"):
        fit("far too many words for a tiny box " * 5, 40, 10, 12, 8)
