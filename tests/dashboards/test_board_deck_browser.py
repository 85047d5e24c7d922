"""The board deck page in real headless Chromium, signed in through the dashboard's own
form (tests/access/browser.py): a board member builds October's deck and downloads the
PPTX and the PDF; the PPTX opens with python-pptx and holds the deck's slides, the PDF
has its pages, and the build and both downloads are in the audit log under the board
member's name. A physician is not offered the page."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from pptx import Presentation

from tests.access.browser import (
    LAPTOP,
    PASSWORDS,
    WAIT_MS,
    chromium,
    login,
    serve,
    settle,
    write_test_users,
)
from tests.reports.test_board_deck import TITLES

BUILD_MS = 300_000  # about 10 s alone; minutes on a shared, saturated CI machine


@pytest.fixture(scope="module")
def deck_app(sample_home, tmp_path_factory):
    config = write_test_users(tmp_path_factory.mktemp("deck_users") / "clinicops.yaml")
    with serve(sample_home, config) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    with chromium() as browser:
        yield browser


@pytest.fixture
def page(browser) -> Page:
    context = browser.new_context(viewport=LAPTOP, accept_downloads=True)
    yield context.new_page()
    context.close()


def _download(page: Page, button: str, folder: Path) -> Path:
    with page.expect_download() as download:
        page.get_by_role("button", name=button).click()
    saved = folder / download.value.suggested_filename
    download.value.save_as(saved)
    return saved


def test_board_member_builds_and_downloads_the_deck(deck_app, sample_home, page, tmp_path):
    login(page, deck_app, "board", PASSWORDS["board"], "board-deck")
    expect(page.get_by_role("heading", name="Board deck", level=1)).to_be_visible(timeout=WAIT_MS)
    # The newest complete month is chosen first: the sample runs to 22 Nov 2026.
    main = page.get_by_role("main")
    expect(main.get_by_role("combobox", name="Month")).to_have_value("Oct 2026")
    main.get_by_role("button", name="Build the deck").click()
    expect(page.get_by_role("button", name="PPTX")).to_be_visible(timeout=BUILD_MS)
    settle(page)
    assert page.locator('[data-testid="stException"]').count() == 0

    pptx = _download(page, "PPTX", tmp_path)
    pdf = _download(page, "PDF", tmp_path)
    assert pptx.name == "board-2026-10.pptx" and pdf.name == "board-2026-10.pdf"
    prs = Presentation(str(pptx))
    assert [s.shapes[0].text_frame.text for s in prs.slides] == TITLES
    title_slide = " ".join(s.text_frame.text for s in prs.slides[0].shapes if s.has_text_frame)
    assert "Monthly board report: Oct 2026" in title_slide
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    assert re.search(r"^Pages:\s+(\d+)$", info.stdout, re.MULTILINE)[1] == str(len(TITLES))

    records = [
        json.loads(line)
        for line in (sample_home.root / "audit" / "audit.jsonl").read_text().splitlines()
    ]
    builds = [r for r in records if r["event"] == "deck_build" and r["user"] == "board"]
    assert builds and builds[-1]["role"] == "board" and builds[-1]["period"] == "2026-10"
    downloads = [
        (r["format"], r["period"])
        for r in records
        if r["event"] == "download" and r["user"] == "board" and r["table"] == "board deck"
    ]
    assert ("pptx", "2026-10") in downloads and ("pdf", "2026-10") in downloads


def test_physician_is_not_offered_the_deck(deck_app, page):
    login(page, deck_app, "physician", PASSWORDS["physician"], "board-deck")
    sidebar = page.locator('[data-testid="stSidebar"]')
    expect(sidebar.get_by_role("link", name="Weekly scorecard")).to_be_visible()
    assert sidebar.get_by_role("link", name="Board deck").count() == 0
    expect(page.get_by_text("not available for your role")).to_be_visible(timeout=WAIT_MS)
    assert page.get_by_role("button", name="Build the deck").count() == 0
