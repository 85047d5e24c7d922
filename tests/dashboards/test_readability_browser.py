"""Every dashboard page, for each role that may open it, read in real headless Chromium the
way a person would: no tick labels overlapping or cut off on any chart type, no raw
column names as table headers, no number printed without its format, nothing wider
than the window. A small screenshot of each page is written for docs/dashboards.md
(test-artifacts/dashboards/, copied into docs/dashboards/ when the pages change)."""

from __future__ import annotations

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
from tests.dashboards.readability import (
    chart_count,
    horizontal_overflow,
    raw_headers,
    small_png,
    tick_problems,
    unformatted_numbers,
    visible_text,
)

SHOTS = PROJECT_ROOT / "test-artifacts" / "dashboards"
PAGES = {  # url path -> title
    "": "Weekly scorecard",
    "access": "Access and patient flow",
    "productivity": "Provider productivity",
    "revenue": "Revenue cycle",
    "cost": "Cost and staffing",
    "budget": "Budget planning",
    "data-quality": "Data quality",
}
ROLE_PAGES = {
    "admin": list(PAGES),
    "physician": ["", "access", "productivity", "revenue"],
    "board": ["", "access", "revenue", "cost", "budget"],
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


def read_page(page: Page, url: str, path: str) -> list[str]:
    """Open a page and list what a reader would trip over on it."""
    page.goto(f"{url}/{path}")
    # The previous page's title can linger while the new run draws: wait for this one.
    heading = page.get_by_role("heading", name=PAGES[path], level=1).first
    expect(heading).to_be_visible(timeout=WAIT_MS)
    settle(page)
    # Plotly draws after the element appears, and lays out its ticks after that.
    if page.locator('[data-testid="stPlotlyChart"]').count():
        page.locator(".js-plotly-plot").first.wait_for(timeout=WAIT_MS)
    page.wait_for_timeout(1500)
    problems = tick_problems(page)
    problems += [f"raw column name {h!r} as a table header" for h in raw_headers(page)]
    problems += [f"unformatted number {n!r}" for n in unformatted_numbers(visible_text(page))]
    if overflow := horizontal_overflow(page):
        problems.append(f"the page is {overflow}px wider than the window")
    if page.locator('[data-testid="stException"]').count():
        problems.append("an exception is shown")
    return problems


def screenshot(page: Page, name: str) -> None:
    height = page.evaluate("document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
    page.set_viewport_size({"width": LAPTOP["width"], "height": min(height + 40, 8000)})
    page.wait_for_timeout(800)
    small_png(page.screenshot(full_page=True), SHOTS / f"{name}.png")
    page.set_viewport_size(LAPTOP)


@pytest.mark.parametrize("role", list(ROLE_PAGES))
def test_every_page_reads_cleanly(app_url, browser, role):
    state = signed_in_state(browser, app_url, role, PASSWORDS[role])
    context = browser.new_context(viewport=LAPTOP, storage_state=state)
    context.set_default_timeout(WAIT_MS)
    page = context.new_page()
    found, charts = {}, 0
    try:
        for path in ROLE_PAGES[role]:
            problems = read_page(page, app_url, path)
            charts += chart_count(page)
            if problems:
                found[PAGES[path]] = problems
            screenshot(page, f"{role}-{path or 'scorecard'}")
    finally:
        context.close()
    assert charts >= 5, "the pages drew fewer charts than expected"
    assert not found, found
