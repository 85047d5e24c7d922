"""The pages under each role's scope, headless (AppTest) on the sample: a board member's
pages keep their KPI sections and say "not available" where a section needs fact-table
detail; a physician's pages show their own figures and peers only as anonymous values; a
URL naming a provider or location outside the role falls back to the role's own.
tests/access/test_roles_browser.py drives the same roles in a real browser."""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from tests.access.browser import (
    MANAGED_LOCATIONS,
    PASSWORDS,
    PHYSICIAN_PROVIDER,
    TEST_SECRETS,
    write_test_users,
)
from tests.conftest import SAMPLE_INBOX

APP = Path(__file__).resolve().parents[2] / "dashboards" / "app" / "app.py"
TIMEOUT = 180
NOT_FOR_ROLE = "not available for your role"
PROVIDERS = [f"PRV{n:04d}" for n in range(1, 17)]
# Screens name a provider by display name (providers.csv), so each is searched by both.
NAMES = dict(
    pl.read_csv(SAMPLE_INBOX / "reference" / "providers.csv.gz")
    .select("provider_id", "display_name")
    .iter_rows()
)


@pytest.fixture(scope="module", autouse=True)
def signed_in_home(sample_home, tmp_path_factory):
    config = write_test_users(tmp_path_factory.mktemp("users") / "users.yaml")
    wanted = {**TEST_SECRETS, "CLINICOPS_HOME": str(sample_home.root)}
    wanted["CLINICOPS_CONFIG"] = str(config)
    previous = {name: os.environ.get(name) for name in wanted}
    os.environ.update(wanted)
    yield sample_home
    for name, value in previous.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


def open_as(user: str, page: str, **query_params) -> AppTest:
    app = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    app.query_params.update(query_params)
    app.run()
    app.text_input(key="sign_in_user").input(user)
    app.text_input(key="sign_in_password").input(PASSWORDS[user])
    app.button[0].click().run()
    if page != "scorecard":
        app.switch_page(f"app_pages/{page}.py").run()
    assert not app.exception, [e.message for e in app.exception]
    return app


def infos(app: AppTest) -> list[str]:
    return [i.value for i in app.info] + [w.value for w in app.warning]


def shown_text(app: AppTest) -> str:
    """Everything the page put on screen or in a chart, as text."""
    parts = [e.value for e in (*app.markdown, *app.caption, *app.metric) if e.value]
    parts += [json.dumps(c.proto.spec) for c in app.get("plotly_chart")]
    parts += [df.value.to_csv() for df in app.dataframe]
    return " ".join(str(p) for p in parts)


def test_the_board_scorecard_shows_practice_kpis_and_no_provider(signed_in_home):
    app = open_as("board", "scorecard", prov="PRV0002")
    assert {m.label for m in app.metric} >= {"Completed visits", "Operating cost"}
    assert app.selectbox(key="f_prov").options == ["All providers"]
    assert not [p for p in PROVIDERS if p in shown_text(app)]


@pytest.mark.parametrize(
    "page, after",
    [("access", None), ("revenue", "Collections"), ("budget", None)],
)
def test_board_pages_keep_their_kpis_and_refuse_detail_sections(signed_in_home, page, after):
    app = open_as("board", page)
    assert any(NOT_FOR_ROLE in text for text in infos(app)), infos(app)
    assert any(m.value not in ("–", "") for m in app.metric)
    if after:  # the page went on past the refused section
        assert after in [s.value for s in app.subheader]


def test_a_physician_sees_their_own_scorecard_without_cost(signed_in_home):
    app = open_as("physician", "scorecard", prov="PRV0005")  # a URL naming a colleague
    assert app.selectbox(key="f_prov").options == [f"{NAMES[PHYSICIAN_PROVIDER]} (physician)"]
    assert app.selectbox(key="f_prov").value == PHYSICIAN_PROVIDER
    headings = [s.value for s in app.subheader]
    assert "Access and patient flow" in headings and "Cost" not in headings
    others = [x for p in PROVIDERS if p != PHYSICIAN_PROVIDER for x in (p, NAMES[p])]
    assert not [p for p in others if p in shown_text(app)]


@pytest.mark.parametrize("page", ["productivity", "access", "revenue"])
def test_a_physician_never_sees_another_providers_id(signed_in_home, page):
    app = open_as("physician", page)
    text = shown_text(app)
    assert app.selectbox(key="f_prov").value == PHYSICIAN_PROVIDER  # scoped to them alone
    others = [x for p in PROVIDERS if p != PHYSICIAN_PROVIDER for x in (p, NAMES[p])]
    assert not [p for p in others if p in text]
    if page == "productivity":  # the anonymous distribution is drawn, one dot per peer
        assert min(peer_dots(app)) >= 4  # 3 or more peers and the physician themselves


def peer_dots(app: AppTest) -> list[int]:
    """How many dots each peer chart draws (Plotly ships long arrays base64-encoded)."""
    counts = []
    for chart in app.get("plotly_chart"):
        for trace in json.loads(chart.proto.spec)["data"]:
            if trace.get("name") == "peers":
                x = trace["x"]
                if isinstance(x, dict):
                    x = np.frombuffer(base64.b64decode(x["bdata"]), dtype=x["dtype"])
                counts.append(len(x))
    return counts


def test_a_location_manager_is_held_to_their_location(signed_in_home):
    app = open_as("location_manager", "revenue", loc="L02")
    assert app.selectbox(key="f_loc").options == ["Lakeview Family Medicine"]
    assert app.selectbox(key="f_loc").value == MANAGED_LOCATIONS[0]
    assert "Lakeview Family Medicine" in " ".join(c.value for c in app.caption)
