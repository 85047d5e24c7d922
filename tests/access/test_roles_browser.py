"""Every role in real headless Chromium against `clinicops dashboard` on the sample: what
each sees in the menu and on every page, every location and provider it is offered, URL
tampering (another provider, another location, a page outside the role), every download,
a wrong password, a user without a role, an expired session, cookies replayed after
sign-out, forged or of a removed user, password guessing locked out, a download URL
replayed after sign-out, and the audit record each of these leaves.

One app server and one browser for the module; each role signs in through the form once
and later contexts reuse its session cookie, to keep the module to a few minutes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from dashboards.access import audit, auth
from dashboards.access.auth import COOKIE_NAME
from pipelines.core.config import User
from tests.access.browser import (
    LAPTOP,
    MANAGED_LOCATIONS,
    PASSWORDS,
    PHYSICIAN_PROVIDER,
    PROVIDER_NAMES,
    WAIT_MS,
    chromium,
    login,
    serve,
    settle,
    sign_in_form,
    signed_in_state,
    submit_credentials,
    write_test_users,
)

ROLES = ("admin", "manager", "location_manager", "physician", "board")
PAGES = {  # url path -> (title, roles that may open it)
    "": ("Weekly scorecard", set(ROLES)),
    "access": ("Access and patient flow", set(ROLES)),
    "productivity": ("Provider productivity", set(ROLES) - {"board"}),
    "revenue": ("Revenue cycle", set(ROLES)),
    "cost": ("Cost and staffing", {"admin", "manager", "location_manager", "board"}),
    "budget": ("Budget planning", {"admin", "manager", "location_manager", "board"}),
    "data-quality": ("Data quality", {"admin", "manager"}),
    "audit-log": ("Audit log", {"admin"}),
    "board-deck": ("Board deck", {"admin", "manager", "board"}),
}
# Tall enough for the whole sidebar: a selectbox at the bottom of a laptop-sized window
# closes its list as soon as it opens.
TALL = {"width": 1366, "height": 1400}
REFUSED = "This page is not available for your role."
OTHER_PROVIDER = "PRV0003"  # another physician at the same location as ours
OTHER_LOCATION = ("L02", "Oak Brook Primary Care")
L02_PROVIDER = "PRV0004"


@pytest.fixture(scope="module")
def users_config(tmp_path_factory) -> Path:
    return write_test_users(tmp_path_factory.mktemp("users") / "users.yaml")


@pytest.fixture(scope="module")
def app_url(sample_home, users_config):
    with serve(sample_home, users_config) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    with chromium() as browser:
        yield browser


@pytest.fixture(scope="module")
def states(browser, app_url) -> dict[str, dict]:
    """Each role signed in once through the form."""
    return {role: signed_in_state(browser, app_url, role, PASSWORDS[role]) for role in ROLES}


@pytest.fixture
def as_role(browser, states):
    contexts = []

    def open_as(role: str) -> Page:
        context = browser.new_context(
            viewport=TALL, accept_downloads=True, storage_state=states[role]
        )
        contexts.append(context)
        return context.new_page()

    yield open_as
    for context in contexts:
        context.close()


def audit_records(home, **match) -> list[dict]:
    return [r for r in audit.read(home.root) if all(r.get(k) == v for k, v in match.items())]


def open_path(page: Page, url: str, path: str) -> None:
    page.goto(f"{url}/{path}")
    expect(page.get_by_text("Signed in as")).to_be_visible(timeout=WAIT_MS)
    settle(page)


def menu(page: Page, empty: bool = False) -> set[str]:
    """The page links in the sidebar, once the menu has been drawn."""
    links = page.locator('[data-testid="stSidebar"] a')
    if not empty:
        expect(links.first).to_be_visible(timeout=WAIT_MS)
    return {link.inner_text().split("\n")[-1].strip() for link in links.all()}


def _selectbox(page: Page, label: str):
    return page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').filter(
        has_text=label
    )


def select_options(page: Page, label: str) -> list[str]:
    """The choices a sidebar selectbox offers."""
    _selectbox(page, label).locator("input").click()
    expect(page.get_by_role("option").first).to_be_visible()
    texts = [o.inner_text().strip() for o in page.get_by_role("option").all()]
    page.keyboard.press("Escape")
    return texts


def choose(page: Page, label: str, option: str) -> None:
    _selectbox(page, label).locator("input").click()
    page.get_by_role("option", name=option).click()
    settle(page)


def assert_no_exception(page: Page) -> None:
    assert page.locator('[data-testid="stException"]').count() == 0


@pytest.mark.parametrize("role", ROLES)
def test_each_page_opens_or_is_refused_by_role(role, as_role, app_url, sample_home):
    page = as_role(role)
    open_path(page, app_url, "")
    allowed = {title for title, roles in PAGES.values() if role in roles}
    assert menu(page) == allowed
    for path, (title, roles) in PAGES.items():
        open_path(page, app_url, path)
        assert_no_exception(page)
        expect(page.get_by_role("heading", name=title, level=1).first).to_be_visible()
        if role in roles:
            assert page.get_by_text(REFUSED).count() == 0, (role, path)
        else:
            expect(page.get_by_text(REFUSED)).to_be_visible()
            assert page.locator('[data-testid="stMetric"]').count() == 0
            assert page.get_by_role("button", name="CSV", exact=True).count() == 0
    refused = {r.get("page") for r in audit_records(sample_home, user=role, event="access_denied")}
    assert refused >= {p or "scorecard" for p, (_, roles) in PAGES.items() if role not in roles}
    viewed = {r["page"] for r in audit_records(sample_home, user=role, event="page_view")}
    assert viewed >= {p or "scorecard" for p in PAGES}


def test_physician_sees_only_their_provider(as_role, app_url, sample_home):
    page = as_role("physician")
    open_path(page, app_url, "productivity")
    providers = select_options(page, "Provider")
    assert len(providers) == 1 and providers[0].startswith(PROVIDER_NAMES[PHYSICIAN_PROVIDER])
    for location in select_options(page, "Location"):
        choose(page, "Location", location)
        assert_no_exception(page)
        assert page.get_by_text(OTHER_PROVIDER).count() == 0
        assert page.get_by_text(PROVIDER_NAMES[OTHER_PROVIDER]).count() == 0
    # Tampering: another provider in the URL gets the physician's own view.
    for path in ("", "productivity", "access", "revenue"):
        open_path(page, app_url, f"{path}?prov={OTHER_PROVIDER}")
        assert_no_exception(page)
        assert f"prov={PHYSICIAN_PROVIDER}" in page.url
        assert page.get_by_text(OTHER_PROVIDER).count() == 0, path
        assert page.get_by_text(PROVIDER_NAMES[OTHER_PROVIDER]).count() == 0, path
        assert select_options(page, "Provider") == providers  # their own view, by name
    tampered = audit_records(sample_home, user="physician", what="prov filter")
    assert tampered and tampered[0]["value"] == OTHER_PROVIDER


def test_location_manager_sees_only_their_locations(as_role, app_url, sample_home):
    page = as_role("location_manager")
    open_path(page, app_url, "cost")
    locations = select_options(page, "Location")
    assert locations == ["Lakeview Family Medicine"]  # L01 only, no "All locations"
    providers = select_options(page, "Provider")
    shown = " ".join(providers)
    assert PROVIDER_NAMES[OTHER_PROVIDER] in shown and PROVIDER_NAMES[L02_PROVIDER] not in shown
    for provider in providers:
        choose(page, "Provider", provider)
        assert_no_exception(page)
        assert page.get_by_text(OTHER_LOCATION[1]).count() == 0
    for query in (f"loc={OTHER_LOCATION[0]}", f"prov={L02_PROVIDER}"):
        open_path(page, app_url, f"access?{query}")
        assert_no_exception(page)
        assert f"loc={MANAGED_LOCATIONS[0]}" in page.url
        assert page.get_by_text(OTHER_LOCATION[1]).count() == 0
        assert page.get_by_text(L02_PROVIDER).count() == 0
        assert page.get_by_text(PROVIDER_NAMES[L02_PROVIDER]).count() == 0
    values = {
        r.get("value")
        for r in audit_records(sample_home, user="location_manager", event="access_denied")
    }
    assert {OTHER_LOCATION[0], L02_PROVIDER} <= values


def test_board_gets_no_provider_choice(as_role, app_url):
    page = as_role("board")
    open_path(page, app_url, "revenue")
    assert select_options(page, "Provider") == ["All providers"]
    open_path(page, app_url, f"revenue?prov={OTHER_PROVIDER}")
    assert_no_exception(page)
    assert page.get_by_text(OTHER_PROVIDER).count() == 0


@pytest.mark.parametrize("role", ROLES)
def test_every_download_is_scoped_and_audited(role, as_role, app_url, sample_home, tmp_path):
    page = as_role(role)
    open_path(page, app_url, "revenue")
    buttons = page.get_by_role("button", name="CSV", exact=True)
    expect(buttons.first).to_be_visible()
    settle(page)
    before = len(audit_records(sample_home, user=role, event="download"))
    for index in range(buttons.count()):
        if index and index % 8 == 0:  # Chromium stops a page's downloads after about ten
            open_path(page, app_url, "revenue")
            expect(buttons.first).to_be_visible()
            settle(page)
        with page.expect_download() as download:
            buttons.nth(index).click()
        saved = tmp_path / f"{index}.csv"
        download.value.save_as(saved)
        text = saved.read_text(encoding="utf-8")
        if role == "physician":
            assert OTHER_PROVIDER not in text
        if role == "location_manager":
            assert L02_PROVIDER not in text and f",{OTHER_LOCATION[0]}," not in text
        if role == "board":
            assert "PRV0" not in text
    records = audit_records(sample_home, user=role, event="download")[before:]
    assert len(records) == buttons.count()
    assert all(isinstance(r["rows"], int) and r["format"] == "csv" for r in records)


def test_wrong_password_and_unknown_user_are_refused(browser, app_url, sample_home):
    context = browser.new_context(viewport=LAPTOP)
    page = context.new_page()
    page.goto(app_url)
    expect(sign_in_form(page)).to_be_visible(timeout=WAIT_MS)
    settle(page)
    submit_credentials(page, "admin", "not-the-password")
    expect(page.get_by_text("Wrong username or password.")).to_be_visible()
    assert page.get_by_text("Signed in as").count() == 0
    submit_credentials(page, "Not-A-User-x9", "whatever")
    expect(page.get_by_text("Wrong username or password.")).to_be_visible()
    context.close()
    failed = audit_records(sample_home, event="login_failed")
    assert {r["user"] for r in failed} >= {"admin", None}
    log = audit.log_path(sample_home.root).read_text(encoding="utf-8")
    for secret in ("not-the-password", "whatever", "not-a-user-x9", *PASSWORDS.values()):
        assert secret not in log


def test_a_user_without_a_role_sees_nothing(browser, app_url, sample_home):
    context = browser.new_context(viewport=LAPTOP)
    page = context.new_page()
    login(page, app_url, "nobody", PASSWORDS["nobody"], path="revenue")
    expect(page.get_by_text("Your account has no role")).to_be_visible()
    assert menu(page, empty=True) == set()
    assert page.locator('[data-testid="stMetric"]').count() == 0
    context.close()
    assert audit_records(sample_home, user="nobody", event="access_denied")


def test_sign_out_ends_the_session_and_its_cookie(browser, app_url, sample_home):
    context = browser.new_context(viewport=LAPTOP)
    page = context.new_page()
    login(page, app_url, "manager", PASSWORDS["manager"])
    page.get_by_role("button", name="Sign out").click()
    settle(page)
    expect(sign_in_form(page)).to_be_visible()
    page.reload()
    expect(sign_in_form(page)).to_be_visible(timeout=WAIT_MS)
    context.close()
    assert audit_records(sample_home, user="manager", event="logout")


def test_an_idle_session_must_sign_in_again(browser, app_url, sample_home, users_config):
    """The idle limit is read from the config on every run: shorten it to 3 seconds."""
    context = browser.new_context(viewport=LAPTOP)
    page = context.new_page()
    login(page, app_url, "admin", PASSWORDS["admin"], path="access")
    original = users_config.read_text(encoding="utf-8")
    try:
        users_config.write_text(
            original.replace("session_idle_minutes: 30", "session_idle_minutes: 0.05")
        )
        # Three idle windows: the reruns the cookie components start after sign-in count
        # as activity and may come late on a busy machine.
        page.wait_for_timeout(10_000)
        page.locator('[data-testid="stSidebar"]').get_by_role("radio", name="Month").click()
        settle(page)
        expect(page.get_by_text("Your session expired")).to_be_visible(timeout=WAIT_MS)
        expect(sign_in_form(page)).to_be_visible()
        page.reload()  # and the cookie no longer signs in
        expect(sign_in_form(page)).to_be_visible(timeout=WAIT_MS)
    finally:
        users_config.write_text(original, encoding="utf-8")
        context.close()
    expired = audit_records(sample_home, user="admin", event="session_expired")
    assert expired


def test_the_audit_log_page_shows_an_intact_chain(as_role, app_url, sample_home):
    page = as_role("admin")
    open_path(page, app_url, "audit-log")
    expect(page.get_by_text("The log is intact")).to_be_visible()
    assert audit.verify(sample_home.root).ok
    records = [json.loads(line) for line in audit.log_path(sample_home.root).open()]
    assert {"login", "login_failed", "page_view", "download", "access_denied"} <= {
        r["event"] for r in records
    }


def _fresh_page(browser, state: dict | None = None) -> tuple:
    context = browser.new_context(viewport=LAPTOP, accept_downloads=True, storage_state=state)
    return context, context.new_page()


def test_a_cookie_is_worthless_after_sign_out_forged_or_of_a_removed_user(
    browser, app_url, sample_home
):
    # Signed out: the same cookie, replayed from a copy, opens the form.
    context, page = _fresh_page(browser)
    login(page, app_url, "manager", PASSWORDS["manager"])
    expect(page.get_by_text("Signed in as manager")).to_be_visible()
    settle(page)
    stolen = context.storage_state()
    assert any(c["name"] == COOKIE_NAME for c in stolen["cookies"])
    page.get_by_role("button", name="Sign out").click()
    settle(page)
    context.close()
    # A removed user's cookie, and forged ones (a `none`-algorithm token, a made-up id).
    auth.save_user(
        sample_home, "leaver", User(role="board", password_hash=auth.hash_password("p", 4))
    )
    context, page = _fresh_page(browser)
    try:
        page.goto(app_url)
        expect(sign_in_form(page)).to_be_visible(timeout=WAIT_MS)
        settle(page)
        submit_credentials(page, "leaver", "p")
        expect(page.get_by_text("Signed in as leaver")).to_be_visible()
        settle(page)
        removed = context.storage_state()
    finally:
        context.close()
        auth.delete_user(sample_home, "leaver")
    forged = [
        "eyJhbGciOiJub25lIn0.eyJ1c2VybmFtZSI6ImFkbWluIiwiZXhwIjo5OTk5OTk5OTk5fQ.",
        "admin",
    ]
    states = [stolen, removed] + [
        {"cookies": [{"name": COOKIE_NAME, "value": v, "url": app_url}], "origins": []}
        for v in forged
    ]
    for state in states:
        if "url" in state["cookies"][0]:
            context = browser.new_context(viewport=LAPTOP)
            context.add_cookies(state["cookies"])
        else:
            context = browser.new_context(viewport=LAPTOP, storage_state=state)
        page = context.new_page()
        page.goto(app_url)
        expect(sign_in_form(page)).to_be_visible(timeout=WAIT_MS)
        settle(page)
        assert page.get_by_text("Signed in as").count() == 0
        assert_no_exception(page)
        assert "Traceback" not in page.content() and "site-packages" not in page.content()
        context.close()


def test_guessing_is_locked_out_and_logged_with_the_client(browser, app_url, sample_home):
    from dashboards.access import sessions

    sessions.succeeded(sample_home, "board", "local")  # earlier tests' failures
    context, page = _fresh_page(browser)
    page.goto(app_url)
    expect(sign_in_form(page)).to_be_visible(timeout=WAIT_MS)
    settle(page)
    before = len(audit_records(sample_home, event="login_failed", user="board"))
    try:
        for attempt in range(sessions.LOCK_AFTER):
            if attempt >= sessions.BACKOFF_AFTER:
                page.wait_for_timeout(1000 * 2 ** (attempt - sessions.BACKOFF_AFTER) + 500)
            submit_credentials(page, "board", f"guess-{attempt}")
            expect(page.get_by_text("Wrong username or password.")).to_be_visible()
        submit_credentials(page, "board", PASSWORDS["board"])  # right, but locked out
        expect(page.get_by_text("Too many failed sign-ins")).to_be_visible()
        assert page.get_by_text("Signed in as").count() == 0
        for _ in range(5):  # further attempts are refused and not logged
            submit_credentials(page, "board", "again")
    finally:
        context.close()
        sessions.succeeded(sample_home, "board", "local")  # let the module's tests go on
    failed = audit_records(sample_home, event="login_failed", user="board")[before:]
    assert len(failed) == sessions.LOCK_AFTER
    assert all(r["client"] == "local" for r in failed)
    assert audit_records(sample_home, event="login_locked", user="board")


def test_a_download_url_is_not_served_after_sign_out(browser, app_url, sample_home):
    import urllib.error
    import urllib.request

    context, page = _fresh_page(browser)
    login(page, app_url, "admin", PASSWORDS["admin"], path="revenue")
    button = page.get_by_role("button", name="CSV", exact=True).first
    expect(button).to_be_visible()
    settle(page)
    with page.expect_download() as download:
        button.click()
    url = download.value.url
    assert "/media/" in url
    page.get_by_role("button", name="Sign out").click()
    settle(page)
    context.close()
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(url, timeout=10)  # no cookie, no session: a replay
    assert refused.value.code == 404
