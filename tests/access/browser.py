"""Reusable pieces for driving the signed-in dashboard in Debian's headless Chromium.

- `write_test_users(path, ...)`: a config file with one known user per role (and one with
  no role), bcrypt hashes at the lowest cost so signing in stays fast in tests.
- `serve(home, config)`: `clinicops dashboard` on a free port with test secrets in its
  environment, until the block ends; yields the base URL.
- `chromium()`: the browser with the flags shared/STACK_NOTES.md requires.
- `login(page, url, user, password)`, `logout(page)`, `settle(page)`.
- `signed_in_state(browser, url, user, password)`: sign in once and keep the browser
  state (the signed session cookie), so later contexts open signed in without the form.

The role tests (tests/access/test_roles_browser.py), the dashboards' browser test and the
reliability suite's readers all use these, so a change to the sign-in form is made once.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import bcrypt
import polars as pl
import yaml
from playwright.sync_api import Browser, Page, expect, sync_playwright

from dashboards.access.auth import COOKIE_NAME
from pipelines.core.home import Home
from tests.conftest import SAMPLE_INBOX, clinicops_command

CHROMIUM = "/usr/bin/chromium"
# shared/STACK_NOTES.md: without the resolver rule Chromium keeps looking up outside hosts.
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
]
LAPTOP = {"width": 1366, "height": 768}
WAIT_MS = 90_000
# Six engineers' test runs share 2 cores: a page that renders in 1 s alone can take 30 s,
# so every `expect` waits as long as a page may take rather than Playwright's 5 s.
expect.set_options(timeout=WAIT_MS)
TEST_SECRETS = {
    "CLINICOPS_COOKIE_KEY": "test-cookie-key-" + "c" * 32,
    "CLINICOPS_PSEUDONYM_KEY": "test-pseudonym-key-" + "p" * 16,
}
# One user per role, named for it; `nobody` has an account and no role.
PASSWORDS = {
    "admin": "admin-pass-1",
    "manager": "manager-pass-2",
    "location_manager": "location-pass-3",
    "physician": "physician-pass-4",
    "board": "board-pass-5",
    "nobody": "nobody-pass-6",
}
PHYSICIAN_PROVIDER = "PRV0002"  # a physician at L01
# Screens name providers by their display name (providers.csv): tests look for both.
PROVIDER_NAMES = dict(
    pl.read_csv(SAMPLE_INBOX / "reference" / "providers.csv.gz")
    .select("provider_id", "display_name")
    .iter_rows()
)
MANAGED_LOCATIONS = ["L01"]


def write_test_users(
    path: Path,
    idle_minutes: float = 30,
    provider_id: str = PHYSICIAN_PROVIDER,
    location_ids: list[str] = MANAGED_LOCATIONS,
) -> Path:
    """A config file whose `access` section holds the users of `PASSWORDS`."""
    binding = {
        "physician": {"provider_id": provider_id},
        "location_manager": {"location_ids": list(location_ids)},
    }
    users = {
        name: {
            "role": None if name == "nobody" else name,
            **binding.get(name, {}),
            "password_hash": bcrypt.hashpw(password.encode(), bcrypt.gensalt(4)).decode(),
        }
        for name, password in PASSWORDS.items()
    }
    path.write_text(
        yaml.safe_dump({"access": {"session_idle_minutes": idle_minutes, "users": users}}),
        encoding="utf-8",
    )
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def serve(home: Home, config: Path, env: dict[str, str] | None = None) -> Iterator[str]:
    """`clinicops dashboard` over `home` with the users of `config`; yields its URL."""
    port = free_port()
    server = subprocess.Popen(
        [
            clinicops_command(),
            "dashboard",
            "--home",
            str(home.root),
            "--port",
            str(port),
            "--config",
            str(config),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, **TEST_SECRETS, **(env or {})},
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as reply:
                    if reply.read() == b"ok":
                        break
            except OSError:
                if server.poll() is not None:
                    output = server.stdout.read()
                    raise RuntimeError(f"clinicops dashboard exited:\n{output}") from None
                if time.monotonic() > deadline:
                    raise RuntimeError("the dashboard did not answer within 120 s") from None
                time.sleep(0.5)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


@contextmanager
def chromium() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            yield browser
        finally:
            browser.close()


def settle(page: Page) -> None:
    """Wait until Streamlit has finished the script run the last action started."""
    page.wait_for_timeout(300)
    page.wait_for_selector(
        '[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=WAIT_MS
    )
    page.wait_for_timeout(500)


def sign_in_form(page: Page):
    return page.get_by_role("heading", name="Sign in to clinicops")


def submit_credentials(page: Page, user: str, password: str) -> None:
    page.get_by_role("textbox", name="Username").fill(user)
    page.get_by_role("textbox", name="Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    settle(page)


def login(page: Page, url: str, user: str, password: str, path: str = "") -> None:
    """Open `url/path`, sign in and wait until the app shows who is signed in."""
    page.goto(f"{url}/{path}")
    expect(sign_in_form(page)).to_be_visible(timeout=WAIT_MS)
    settle(page)
    submit_credentials(page, user, password)
    expect(page.get_by_text(f"Signed in as {user}")).to_be_visible(timeout=WAIT_MS)
    settle(page)


def signed_in_state(browser: Browser, url: str, user: str, password: str) -> dict:
    """Playwright storage state holding `user`'s session cookie (valid for the idle window)."""
    context = browser.new_context(viewport=LAPTOP)
    try:
        page = context.new_page()
        login(page, url, user, password)
        deadline = time.monotonic() + 30
        while COOKIE_NAME not in {c["name"] for c in context.cookies()}:
            if time.monotonic() > deadline:
                raise RuntimeError("the app set no session cookie after signing in")
            page.wait_for_timeout(200)
        return context.storage_state()
    finally:
        context.close()


def logout(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    settle(page)
    expect(sign_in_form(page)).to_be_visible(timeout=WAIT_MS)
