"""One status everywhere: the scorecard, its drill-down, the board deck, the digest and
the alerts all show a KPI row's status as marts.kpi_status publishes it.

A copy of the sample's serving file gets statuses planted that contradict the values
(a value far inside its band marked out of band, one far outside marked partial, one far
below its floor marked in band): a reader that judged a value itself would disagree with
the mart, so each must say exactly what was planted.
"""

from __future__ import annotations

import shutil
from datetime import date, timedelta

import duckdb
import pytest

from dashboards.data.serving import read_serving
from dashboards.reports.deck import DeckOptions, _Deck
from dashboards.reports.digest import AlertRule, build_digest
from dashboards.reports.periods import Period
from pipelines.core.home import Home
from tests.dashboards.test_dashboard_pages import open_page, signed_in_users  # noqa: F401

# kpi -> (planted status, target_low, target_high, band_gap), against values that say otherwise
PLANTED = {
    "cycle_time_min_p50": ("out_of_band", 0.0, 1000.0, 1e6),  # the value is well inside
    "days_in_ar": ("partial", 0.0, 1.0, None),  # the value is far outside
    "completed_visits": ("in_band", 1e9, None, 0.0),  # the value is far below the floor
}
SCORECARD_LABELS = {
    "cycle_time_min_p50": "Cycle time (median)",
    "days_in_ar": "Days in A/R",
    "completed_visits": "Completed visits",
}


@pytest.fixture(scope="module")
def planted(sample_home, tmp_path_factory) -> tuple[Home, date, date]:
    home = Home(tmp_path_factory.mktemp("one_status"))
    shutil.copyfile(sample_home.serving, home.serving)
    with duckdb.connect(str(home.serving)) as con:
        ((as_of,),) = con.sql("select as_of_date from marts.publish_info").fetchall()
        week = as_of - timedelta(days=as_of.weekday() + (0 if as_of.weekday() == 6 else 7))
        month = (as_of.replace(day=1) - timedelta(days=1)).replace(day=1)
        for grain, start in (("week", week), ("month", month)):
            for kpi, (status, low, high, gap) in PLANTED.items():
                con.execute(
                    "update marts.kpi_status set status = ?, target_low = ?, target_high = ?, "
                    "band_gap = ?, target_source = 'default' where period_grain = ? "
                    "and period_start = ? and scope = 'practice' and kpi = ?",
                    [status, low, high, gap, grain, start, kpi],
                )
        planted_rows = con.sql(
            "select count(*) from marts.kpi_status where scope = 'practice' "
            "and ((period_grain = 'week' and period_start = ?) "
            "or (period_grain = 'month' and period_start = ?)) and list_contains(?, kpi)",
            params=[week, month, list(PLANTED)],
        ).fetchall()[0][0]
    assert planted_rows == 2 * len(PLANTED)
    return home, week, month


def test_digest_and_alerts_say_what_the_mart_says(planted):
    home, week, _ = planted
    digest = build_digest(
        home.serving,
        {},
        [AlertRule(kpi) for kpi in PLANTED],
        "http://127.0.0.1:8501",
        "Sample practice",
        week=week,
    )
    out = {f.kpi for f in digest.out_of_band}
    assert "cycle_time_min_p50" in out
    assert not out & {"days_in_ar", "completed_visits"}
    assert [f.kpi for f in digest.fired] == ["cycle_time_min_p50"]  # partial: never alerted
    assert "days_in_ar" not in {f.kpi for f in digest.moves}  # a partial week is no move
    assert "days_in_ar/practice/all" not in digest.state["alerts"]


def test_deck_says_what_the_mart_says(planted, admin):
    home, _, month = planted
    deck = _Deck(read_serving(home.serving), Period(month, 1), DeckOptions("Sample practice"))
    shown = {
        kpi: deck.kpi_row(kpi, kpi, Period(month, 1), with_status=True)[3].text for kpi in PLANTED
    }
    assert shown == {
        "cycle_time_min_p50": "Off target",
        "days_in_ar": "Partial",
        "completed_visits": "On target",
    }


def test_scorecard_and_drill_down_say_what_the_mart_says(planted, monkeypatch):
    home, _, _ = planted
    monkeypatch.setenv("CLINICOPS_HOME", str(home.root))
    app = open_page("scorecard")
    badges = [m.value for m in app.markdown if "-badge[" in m.value]
    labels = [m.label for m in app.metric]
    assert len(badges) == len(labels)
    by_label = dict(zip(labels, badges, strict=True))
    assert by_label[SCORECARD_LABELS["cycle_time_min_p50"]].startswith(":red-badge[out of band]")
    assert by_label[SCORECARD_LABELS["days_in_ar"]].startswith(":orange-badge[partial]")
    assert by_label[SCORECARD_LABELS["completed_visits"]].startswith(":green-badge[in band]")
    # The out-of-band list is the mart's: the planted KPI is first (largest band_gap).
    drill = next(b for b in app.button if b.label == "Drill down")
    assert drill.key == "drill_cycle_time_min_p50"
    drill.click().run()
    assert not app.exception, [e.message for e in app.exception]
    assert any("Drill-down: Cycle time (median)" in s.value for s in app.subheader)
