"""AppTest smoke test of every page on the sample's serving file: each page runs without
an exception and shows its title and its headline figures from the published data, for an
admin who signed in through the app's form (tests/access covers the other roles)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from tests.access.browser import PASSWORDS, TEST_SECRETS, write_test_users

APP = Path(__file__).resolve().parents[2] / "dashboards" / "app" / "app.py"
TIMEOUT = 120

PAGES = {
    "scorecard": ("Weekly scorecard", ["Completed visits", "No-show rate", "Days in A/R"]),
    "access": ("Access and patient flow", ["No-show rate", "Schedule utilisation"]),
    "productivity": ("Provider productivity", ["Work RVUs", "Visits per provider FTE"]),
    "revenue": ("Revenue cycle", ["A/R balance", "Days in A/R", "Initial denial rate"]),
    "cost": ("Cost and staffing", ["Operating cost", "Cost per visit", "Overtime share"]),
    "budget": ("Budget planning", ["Completed visits: 2026 forecast", "Operating margin"]),
    "data_quality": ("Data quality", ["Files delivered", "Rows rejected"]),
}


@pytest.fixture(autouse=True)
def signed_in_users(tmp_path, monkeypatch):
    """The app's secrets and a config with known users, as `clinicops dashboard` gives them."""
    for name, value in TEST_SECRETS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("CLINICOPS_CONFIG", str(write_test_users(tmp_path / "users.yaml")))


def sign_in(app: AppTest, user: str = "admin") -> None:
    assert [s.value for s in app.subheader] == ["Sign in to clinicops"]
    app.text_input(key="sign_in_user").input(user)
    app.text_input(key="sign_in_password").input(PASSWORDS[user])
    app.button[0].click().run()


def open_page(page: str, **query_params) -> AppTest:
    app = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    app.query_params.update(query_params)
    app.run()
    sign_in(app)
    if page != "scorecard":
        app.switch_page(f"app_pages/{page}.py").run()
    assert not app.exception, [e.message for e in app.exception]
    return app


@pytest.mark.parametrize("page", sorted(PAGES))
def test_page_shows_published_figures(dashboard_home, page):
    title, metrics = PAGES[page]
    app = open_page(page)
    assert [t.value for t in app.title] == [title]
    labels = {m.label for m in app.metric}
    assert set(metrics) <= labels, labels
    values = [m.value for m in app.metric]
    assert any(v not in ("–", "", None) for v in values)
    assert app.get("download_button"), "every page offers downloads"


def test_scorecard_card_is_the_published_value(dashboard_home):
    app = open_page("scorecard")
    with duckdb.connect(str(dashboard_home.serving), read_only=True) as con:
        visits = con.sql(
            "select value from marts.kpi_values where kpi = 'completed_visits' "
            "and period_grain = 'week' and scope = 'practice' and period_start = ("
            "select max(period_start) from marts.kpi_values where period_grain = 'week' "
            "and period_start + 6 <= (select as_of_date from marts.publish_info))"
        ).fetchall()[0][0]
    card = next(m for m in app.metric if m.label == "Completed visits")
    assert card.value == f"{visits:,.0f}"


def test_scorecard_drill_down_names_the_driver(dashboard_home):
    app = open_page("scorecard")
    drills = [b for b in app.button if b.label == "Drill down"]
    assert drills, "the sample has KPIs out of band"
    drills[0].click().run()
    assert not app.exception
    headings = [s.value for s in app.subheader]
    assert any(h.startswith("Drill-down:") for h in headings), headings
    assert any("Driving it:" in m.value for m in app.markdown)


def test_filters_come_from_the_url_and_go_back_to_it(dashboard_home):
    app = open_page("access", period="month", loc="L01")
    assert "month" in str(app.query_params["period"])
    assert app.selectbox(key="f_loc").value == "L01"
    caption = " ".join(c.value for c in app.caption)
    assert "Lakeview Family Medicine" in caption
    app.selectbox(key="f_loc").select("L02").run()
    assert not app.exception
    assert "L02" in str(app.query_params["loc"])


@pytest.mark.parametrize(
    "link",
    [
        {"period": "quarter", "at": "2026-07-01", "loc": "L02"},
        {"period": "custom", "from": "2026-03-02", "to": "2026-05-31", "prov": "PRV0003"},
    ],
)
def test_a_link_reopens_its_view_and_a_new_period_drops_the_stale_date(dashboard_home, link):
    app = open_page("revenue", **link)
    assert not app.exception
    assert {k: str(v[0] if isinstance(v, list) else v) for k, v in app.query_params.items()} == link
    # Weeks: the link's date is not a week the sidebar offers, so the newest week is shown.
    next(s for s in app.segmented_control if s.label == "Period").set_value("week").run()
    assert not app.exception
    weeks = app.selectbox(key="f_at_week").options
    assert app.selectbox(key="f_at_week").value.strftime("Week of %d %b %Y") == weeks[0]
    # Months: the box now holds a month, not the week it showed a moment ago.
    next(s for s in app.segmented_control if s.label == "Period").set_value("month").run()
    assert not app.exception
    month = app.selectbox(key="f_at_month")
    assert month.label == "Month" and month.value.day == 1
    assert month.value.strftime("%B %Y") in month.options


@pytest.mark.parametrize("grain", ["quarter", "year"])
def test_a_quarter_or_year_reads_its_own_published_rows(dashboard_home, grain):
    """The headline is the period's own kpi_values row (dbt computes a quarter over the
    whole quarter), not its last month's and not months added up by the page."""
    with duckdb.connect(str(dashboard_home.serving), read_only=True) as con:
        start, rate = con.sql(
            "select period_start, value from marts.kpi_values where kpi = 'no_show_rate' "
            f"and period_grain = '{grain}' and scope = 'practice' and complete "
            "order by period_start desc limit 1"
        ).fetchall()[0]
    app = open_page("access", period=grain, at=start.isoformat())
    box = app.selectbox(key=f"f_at_{grain}")
    assert box.value == start
    card = next(m for m in app.metric if m.label == "No-show rate")
    assert card.value == f"{rate:.1%}"
    caption = " ".join(c.value for c in app.caption)
    assert ("Q" if grain == "quarter" else "FY") in caption, caption


def test_provider_filter_scopes_cost_to_practice(dashboard_home):
    app = open_page("cost", prov="PRV0001")
    assert any("no provider scope" in i.value for i in app.info)
