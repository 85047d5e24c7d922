"""`python -m bench.dashboard_pages --home DIR [--json OUT]`: server time of every page.

Each page is run headless with Streamlit's AppTest, which executes the page script the
way the server does (sign-in check, queries, formatting, figures) without a browser,
for an admin signed in through the app's form. *Cold* is the page's first run with
every Streamlit cache cleared, in a process that has already imported its libraries, as
a running server has; the *warm* runs are the next ones, served from the caches as a
second visitor of a warm server would be, and give p50 and p95. Target (issue 23): warm
p95 ≤ 300 ms. A measurement, not a test; bench/run.py folds it into its report.
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Annotated

import bcrypt
import streamlit as st
import typer
import yaml
from streamlit.testing.v1 import AppTest

APP = Path(__file__).resolve().parent.parent / "dashboards" / "app" / "app.py"
PAGES = ["scorecard", "access", "productivity", "revenue", "cost", "budget", "data_quality"]
WARM_P95_TARGET_S = 0.3
USER, PASSWORD = "bench", "bench-pass-1"
# The app refuses to start without these; a benchmark brings its own unless they are set.
BENCH_SECRETS = {
    "CLINICOPS_COOKIE_KEY": "bench-cookie-key-" + "b" * 32,
    "CLINICOPS_PSEUDONYM_KEY": "bench-pseudonym-key-" + "b" * 16,
}


def use_bench_user(folder: Path) -> None:
    """A config whose only user is an admin the benchmark signs in as."""
    digest = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(4)).decode()
    config = folder / "bench-users.yaml"
    users = {USER: {"role": "admin", "password_hash": digest}}
    config.write_text(yaml.safe_dump({"access": {"users": users}}), encoding="utf-8")
    os.environ["CLINICOPS_CONFIG"] = str(config)
    for name, value in BENCH_SECRETS.items():
        os.environ.setdefault(name, value)


def open_page(page: str) -> AppTest:
    app = AppTest.from_file(str(APP), default_timeout=600)
    app.run()
    app.text_input(key="sign_in_user").input(USER)
    app.text_input(key="sign_in_password").input(PASSWORD)
    app.button[0].click().run()
    if page != "scorecard":
        app.switch_page(f"app_pages/{page}.py").run()
    if app.exception:
        raise RuntimeError(f"{page}: {app.exception[0].message}")
    return app


def time_page(page: str, warm_runs: int) -> dict[str, float]:
    st.cache_data.clear()
    st.cache_resource.clear()
    started = time.perf_counter()
    app = open_page(page)  # sign-in and the page's first run: the caches fill
    cold = time.perf_counter() - started
    warm = []
    for _ in range(warm_runs):
        started = time.perf_counter()
        app.run()
        warm.append(time.perf_counter() - started)
    cuts = statistics.quantiles(warm, n=20, method="inclusive")
    return {"cold_s": cold, "p50_s": statistics.median(warm), "p95_s": cuts[18], "runs": warm_runs}


def measure_pages(home: Path, warm_runs: int) -> dict[str, dict[str, float]]:
    os.environ["CLINICOPS_HOME"] = str(home.resolve())
    with tempfile.TemporaryDirectory() as folder:
        use_bench_user(Path(folder))
        open_page("data_quality")  # imports pandas, Plotly and the pages, as a server has
        return {page: time_page(page, warm_runs) for page in PAGES}


def main(
    home: Annotated[Path, typer.Option(help="A built home (its serving.duckdb is read).")],
    warm_runs: Annotated[int, typer.Option(min=2)] = 20,
    json_out: Annotated[Path | None, typer.Option("--json", help="Also write JSON.")] = None,
) -> None:
    pages = measure_pages(home, warm_runs)
    if json_out:
        json_out.write_text(json.dumps(pages, indent=1), encoding="utf-8")
    print(f"serving file: {home / 'serving.duckdb'}")
    print("| page | cold s | warm p50 ms | warm p95 ms | p95 ≤ 300 ms |")
    print("|---|---:|---:|---:|:-:|")
    for page, t in pages.items():
        met = "yes" if t["p95_s"] <= WARM_P95_TARGET_S else "NO"
        print(f"| {page} | {t['cold_s']:.2f} | {t['p50_s'] * 1000:.0f} | "
              f"{t['p95_s'] * 1000:.0f} | {met} |")  # fmt: skip


if __name__ == "__main__":
    typer.run(main)
