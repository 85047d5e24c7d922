"""Signed-in browsers reload the dashboard over HTTP while the pipeline republishes it.

The readers test next door queries the serving file directly; this one goes through
everything a user does: `clinicops dashboard` (Streamlit) serves the scorecard to
headless Chromium readers, each signed in, each reloading the page in a loop while a new
delivery is landed, built and published. A page shows when its data was published
(the header's "published ... UTC") and a headline figure (the week's gross charges);
every page must load without an error and show one of the two published states in
full, never the stamp of one with the figure of the other.
"""

from __future__ import annotations

import asyncio
import shutil
import statistics
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from playwright.async_api import Browser, Page, async_playwright

from dashboards.app.formatting import fmt
from pipelines.core.home import Home
from tests.access.browser import (
    CHROMIUM,
    CHROMIUM_FLAGS,
    LAPTOP,
    PASSWORDS,
    WAIT_MS,
    chromium,
    serve,
    signed_in_state,
    write_test_users,
)
from tests.reliability.conftest import run_ok
from tests.reliability.readers import late_charges, scorecard_week

pytestmark = pytest.mark.e2e

READERS = 3  # 2 cores shared: three sessions already keep the server busy
HEADLINE = "Gross charges"
STAMP_FORMAT = "%d %b %Y %H:%M"  # dashboards/app/components.py header
SETTLED = '[data-testid="stApp"][data-test-script-state="notRunning"]'


@dataclass(frozen=True)
class Answer:
    started: float
    seconds: float
    view: tuple[str, str] | None  # (published stamp, headline figure) as the page shows them
    error: str | None


def published_view(serving: Path) -> tuple[str, str]:
    """What the scorecard must show for this serving file: its stamp and headline figure."""
    week = scorecard_week(serving)
    with duckdb.connect(str(serving), read_only=True) as con:
        ((published_at,),) = con.sql("select published_at from marts.publish_info").fetchall()
        ((value,),) = con.sql(
            "select value from marts.kpi_values where kpi = 'gross_charges' "
            "and period_grain = 'week' and scope = 'practice' and period_start = ?",
            params=[week],
        ).fetchall()
    return f"published {pd.Timestamp(published_at):{STAMP_FORMAT}} UTC", fmt(value, "money")


def restamp(serving: Path) -> None:
    """Date the old state a day back, so its stamp differs from the new one at the
    header's minute resolution however fast the rebuild is."""
    with duckdb.connect(str(serving)) as con:
        con.execute("update marts.publish_info set published_at = published_at - interval 1 day")


async def settled(page: Page) -> None:
    """Streamlit is idle and stays so: the app's first run may start a second one (the
    filters write the URL), and until that ends the page holds elements of both."""
    for _ in range(2):
        await page.wait_for_timeout(300)
        await page.wait_for_selector(SETTLED, timeout=WAIT_MS)


async def read_until(browser: Browser, url: str, state: dict, stop: asyncio.Event) -> list[Answer]:
    """Load the scorecard again and again in one signed-in session, as a user pressing F5."""
    context = await browser.new_context(viewport=LAPTOP, storage_state=state)
    page = await context.new_page()
    answers: list[Answer] = []
    try:
        while not stop.is_set():
            started = time.time()
            clock = time.perf_counter()
            try:
                await page.goto(url)
                figure = page.get_by_test_id("stMetric").filter(has_text=HEADLINE)
                await figure.first.wait_for(timeout=WAIT_MS)
                await settled(page)
                seconds = time.perf_counter() - clock
                shown = await figure.get_by_test_id("stMetricValue").inner_text()
                captions = page.get_by_test_id("stCaptionContainer").filter(has_text="published ")
                header = await captions.first.inner_text()
                problems = await page.get_by_test_id("stException").count()
                stamp = header[header.index("published ") : header.index(" UTC") + 4]
                error = f"{problems} exception(s) on the page" if problems else None
                answers.append(Answer(started, seconds, (stamp, shown.strip()), error))
            except Exception as exc:  # every failure is an answer the test must see
                answers.append(Answer(started, time.perf_counter() - clock, None, repr(exc)))
    finally:
        await context.close()
    return answers


async def read_during(url: str, state: dict, rebuild: Callable[[], None]) -> dict[str, object]:
    """Readers on the old state, the rebuild, readers on the new state; every answer."""
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        stop = asyncio.Event()
        readers = [
            asyncio.create_task(read_until(browser, url, state, stop)) for _ in range(READERS)
        ]
        await asyncio.sleep(20)  # every reader has loaded the old state at least once
        started = time.time()
        await asyncio.to_thread(rebuild)
        published = time.time()
        await asyncio.sleep(20)  # and goes on to load the new one
        stop.set()
        answers = [a for reader in await asyncio.gather(*readers) for a in reader]
        await browser.close()
    return {"answers": answers, "started": started, "published": published}


def test_browser_readers_see_the_old_or_the_new_state_never_a_mix(baseline_home, tmp_path, capsys):
    home = Home(tmp_path / "home")
    shutil.copytree(baseline_home.root, home.root)
    restamp(home.serving)
    before = published_view(home.serving)
    delivery = tmp_path / "late"
    late_charges(home, delivery)
    stage = ["--home", str(home.root)]

    def rebuild() -> None:
        run_ok("land", *stage, "--inbox", str(delivery))
        run_ok("build", *stage)
        run_ok("publish", *stage)

    config = write_test_users(tmp_path / "users.yaml")
    with serve(home, config) as url:
        with chromium() as browser:
            state = signed_in_state(browser, url, "manager", PASSWORDS["manager"])
        run = asyncio.run(read_during(url, state, rebuild))

    after = published_view(home.serving)
    assert before[0] != after[0] and before[1] != after[1], (before, after)
    answers: list[Answer] = run["answers"]
    seconds = sorted(a.seconds for a in answers)
    during = [a for a in answers if run["started"] <= a.started <= run["published"]]
    errors = [a.error for a in answers if a.error]
    with capsys.disabled():
        print(
            f"\n{READERS} browser readers, {len(answers)} page loads ({len(during)} during "
            f"the rebuild), {len(errors)} errors; load median {statistics.median(seconds):.1f} s,"
            f" p95 {seconds[int(0.95 * (len(seconds) - 1))]:.1f} s, max {seconds[-1]:.1f} s; "
            f"views {Counter(a.view for a in answers)}"
        )
    assert not errors, errors[:5]
    views = {a.view for a in answers}
    assert views <= {before, after}, (views - {before, after}, before, after)
    assert during, "no page was loaded while the pipeline ran"
    assert any(a.view == before for a in answers if a.started < run["started"])
    assert any(a.view == after for a in answers if a.started > run["published"])
