"""The dashboards in real headless Chromium (Debian's, driven by Playwright), served by
`clinicops dashboard` over the sample's serving file: every page renders without an
exception, filters persist across pages and in the URL, the scorecard drills down, and a
downloaded CSV holds exactly the published rows. The reader is an admin who signed in
once (tests/access/browser.py); every test reopens the app with that session's cookie.
One screenshot per page is kept under test-artifacts/screenshots/ for a human to look at."""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import pytest
from playwright.sync_api import Page, expect

from tests.access.browser import (
    LAPTOP,
    PASSWORDS,
    WAIT_MS,
    chromium,
    serve,
    settle,
    signed_in_state,
    write_test_users,
)
from tests.conftest import PROJECT_ROOT

SCREENSHOTS = PROJECT_ROOT / "test-artifacts" / "screenshots"
SHARED_LINK_OPENINGS = 3
PAGES = {  # url path -> title
    "": "Weekly scorecard",
    "access": "Access and patient flow",
    "productivity": "Provider productivity",
    "revenue": "Revenue cycle",
    "cost": "Cost and staffing",
    "budget": "Budget planning",
    "data-quality": "Data quality",
}


@pytest.fixture(scope="module")
def app_url(dashboard_home, tmp_path_factory):
    config = write_test_users(tmp_path_factory.mktemp("users") / "users.yaml")
    with serve(dashboard_home, config) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    with chromium() as browser:
        yield browser


@pytest.fixture(scope="module")
def admin_state(browser, app_url):
    """Signed in once as the admin; every test opens a fresh context with that cookie."""
    return signed_in_state(browser, app_url, "admin", PASSWORDS["admin"])


@pytest.fixture
def page(browser, admin_state) -> Page:
    context = browser.new_context(viewport=LAPTOP, accept_downloads=True, storage_state=admin_state)
    # Downloads and clicks wait as long as a page may take on a loaded machine, not 30 s.
    context.set_default_timeout(WAIT_MS)
    yield context.new_page()
    context.close()


def open_page(page: Page, url: str, path: str, title: str) -> None:
    page.goto(f"{url}/{path}")
    expect(page.get_by_role("heading", name=title, level=1)).to_be_visible(timeout=WAIT_MS)
    settle(page)


def assert_no_exception(page: Page) -> None:
    assert page.locator('[data-testid="stException"]').count() == 0
    assert page.get_by_text("Page not found").count() == 0


def full_screenshot(page: Page, name: str) -> None:
    """Streamlit scrolls inside its main block, so grow the window to the content first."""
    height = page.evaluate("document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
    page.set_viewport_size({"width": LAPTOP["width"], "height": min(height + 40, 8000)})
    page.wait_for_timeout(800)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    page.set_viewport_size(LAPTOP)


def test_every_page_renders_real_data(app_url, page):
    for path, title in PAGES.items():
        open_page(page, app_url, path, title)
        assert_no_exception(page)
        assert page.locator('[data-testid="stMetric"]').count() > 0, title
        assert page.get_by_text("Nothing to show for this selection").count() == 0, title
        full_screenshot(page, path or "scorecard")
    assert len(list(SCREENSHOTS.glob("*.png"))) >= len(PAGES)


def test_filters_persist_across_pages_and_in_the_url(app_url, page):
    open_page(page, app_url, "", PAGES[""])
    month = page.locator('[data-testid="stSidebar"]').get_by_role("radio", name="Month")
    month.click()
    settle(page)
    assert "period=month" in page.url
    page.get_by_role("link", name="Revenue cycle").click()
    expect(page.get_by_role("heading", name="Revenue cycle", level=1)).to_be_visible()
    settle(page)
    assert "period=month" in page.url
    assert page.get_by_text("Net collection rate by service month").count() > 0
    assert_no_exception(page)
    # A shared link opens the same view in fresh sessions. The sign-in cookie's component
    # restarts the first runs, which once made the browser redraw the filters from their
    # defaults in about a third of sessions, so the link is opened several times.
    link = page.url
    for _ in range(SHARED_LINK_OPENINGS):
        page.goto(link)
        settle(page)
        expect(month).to_have_attribute("aria-checked", "true")
        assert page.url == link


def test_scorecard_drills_down_to_the_driver(app_url, page):
    open_page(page, app_url, "", PAGES[""])
    page.get_by_role("button", name="Drill down").first.click()
    settle(page)
    expect(page.get_by_role("heading", name="Drill-down:")).to_be_visible()
    expect(page.get_by_text("Driving it:").first).to_be_visible()
    assert_no_exception(page)


def test_scorecard_csv_holds_the_published_rows(app_url, page, dashboard_home, tmp_path):
    open_page(page, app_url, "", PAGES[""])
    with page.expect_download() as download:
        page.get_by_role("button", name="CSV").last.click()
    saved = Path(tmp_path / "scorecard.csv")
    download.value.save_as(saved)
    with saved.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert rows, "the scorecard CSV is empty"
    week = {r["period_start"][:10] for r in rows}
    assert len(week) == 1
    with duckdb.connect(str(dashboard_home.serving), read_only=True) as con:
        published = {
            (kpi, scope, scope_id): value
            for kpi, scope, scope_id, value in con.sql(
                "select kpi, scope, scope_id, value from marts.kpi_values "
                "where period_grain = 'week' and period_start = ?",
                params=[week.pop()],
            ).fetchall()
        }
    for row in rows:
        expected = published[(row["kpi"], row["scope"], row["scope_id"])]
        if expected is None:
            assert row["value"] == ""
        else:
            assert float(row["value"]) == pytest.approx(expected)
