"""Every link of the weekly digest, followed in headless Chromium by a manager who is not
signed in yet: after the sign-in form, the page the link names opens (the scorecard link
once led to /scorecard, a 404) and shows the digest's week, not the newest one."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import Page, expect

from dashboards.access.principal import Principal, Role, acting_as
from dashboards.data.serving import read_serving
from dashboards.reports.digest import build_digest, last_complete_week
from tests.access.browser import (
    LAPTOP,
    PASSWORDS,
    WAIT_MS,
    chromium,
    serve,
    settle,
    submit_credentials,
    write_test_users,
)

TITLES = {
    "": "Weekly scorecard",
    "access": "Access and patient flow",
    "productivity": "Provider productivity",
    "revenue": "Revenue cycle",
    "cost": "Cost and staffing",
    "data-quality": "Data quality",
}
WEEKS_BACK = 3  # not the newest week, so a link that lost its week would show


@pytest.fixture(scope="module")
def app_url(sample_home, tmp_path_factory):
    config = write_test_users(tmp_path_factory.mktemp("users") / "users.yaml")
    with serve(sample_home, config) as url:
        yield url


def digest_links(serving_path, url: str):
    with acting_as(Principal("test:manager", Role.MANAGER)):
        newest = last_complete_week(read_serving(serving_path, grains=("week",)))
        week = newest - timedelta(weeks=WEEKS_BACK)
        digest = build_digest(serving_path, {}, [], url, "Sample practice", week)
    # As a mail client reads them: the page escapes `&` in its attributes.
    hrefs = {html.unescape(href) for href in re.findall(r"href='([^']+)'", digest.html)}
    return week, digest, sorted(hrefs)


def follow(page: Page, link: str) -> None:
    """Open a link signed out, sign in on the form it shows, wait for the page."""
    page.goto(link)
    expect(page.get_by_role("heading", name="Sign in to clinicops")).to_be_visible()
    settle(page)
    submit_credentials(page, "manager", PASSWORDS["manager"])
    expect(page.get_by_text("Signed in as manager")).to_be_visible()
    settle(page)


def test_every_digest_link_opens_its_page_and_week_after_sign_in(sample_home, app_url):
    week, digest, links = digest_links(sample_home.serving, app_url)
    assert any(urlparse(link).path in ("", "/") for link in links), "no scorecard link"
    assert len(links) >= 3, links
    opened = {}
    with chromium() as browser:
        for link in links:
            context = browser.new_context(viewport=LAPTOP)
            context.set_default_timeout(WAIT_MS)
            page = context.new_page()
            try:
                follow(page, link)
                path = urlparse(link).path.strip("/")
                expect(page.get_by_role("heading", name=TITLES[path], level=1)).to_be_visible()
                assert page.get_by_text("Page not found").count() == 0, link
                sidebar = page.locator('[data-testid="stSidebar"]')
                chosen = sidebar.get_by_role("combobox", name="Week")
                try:
                    expect(chosen).to_have_value(f"Week of {week:%d %b %Y}", timeout=20_000)
                except AssertionError:
                    raise AssertionError(f"{link} showed {chosen.input_value()!r}") from None
                query = parse_qs(urlparse(page.url).query)
                assert query.get("at") == [week.isoformat()], page.url
                assert urlparse(page.url).path.strip("/") == path
                opened[link] = TITLES[path]
            finally:
                context.close()
    assert len(opened) == len(links)
    assert "Weekly scorecard" in opened.values()


def test_a_partial_week_is_labelled_and_has_no_moves(sample_home):
    with acting_as(Principal("test:manager", Role.MANAGER)):
        serving = read_serving(sample_home.serving, grains=("week",))
        running = serving.as_of - timedelta(days=serving.as_of.weekday())
        if running + timedelta(days=6) <= serving.as_of:  # the as-of date is a Sunday
            running += timedelta(weeks=1)
        digest = build_digest(sample_home.serving, {}, [], "http://x", "Sample", running)
        whole = build_digest(
            sample_home.serving, {}, [], "http://x", "Sample", last_complete_week(serving)
        )
    assert digest.partial and "Partial week" in digest.html and "(partial" in digest.subject
    assert digest.moves == []
    assert not whole.partial and "Partial week" not in whole.html
    assert whole.moves, "a complete week against a complete week has moves"
