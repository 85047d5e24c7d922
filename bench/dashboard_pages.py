"""`python -m bench.dashboard_pages [--home DIR]`: server-side time of every dashboard page.

Each page is run headless with Streamlit's AppTest, which executes the page script the
way the server does (queries, formatting, figures) without a browser. *Cold* is the
first run with every Streamlit cache cleared (the connection is opened and every query
runs), in a process that has already imported its libraries, as a running server has;
*warm* is the median of the next runs, served from the caches as a second visitor would
be. Targets: warm ≤ 300 ms, cold ≤ 2 s. A measurement, not a test.
"""

from __future__ import annotations

import os
import statistics
import time
from pathlib import Path
from typing import Annotated

import streamlit as st
import typer
from streamlit.testing.v1 import AppTest

APP = Path(__file__).resolve().parent.parent / "dashboards" / "app" / "app.py"
PAGES = ["scorecard", "access", "productivity", "revenue", "cost", "budget", "data_quality"]
WARM_TARGET_S = 0.3
COLD_TARGET_S = 2.0


def import_libraries() -> None:
    """Load pandas, Plotly and the pages' modules once, as the server's first visitor does."""
    app = AppTest.from_file(str(APP), default_timeout=300)
    app.switch_page("app_pages/data_quality.py")
    app.run()


def time_page(page: str, warm_runs: int) -> tuple[float, float]:
    st.cache_data.clear()
    st.cache_resource.clear()
    app = AppTest.from_file(str(APP), default_timeout=300)
    app.switch_page(f"app_pages/{page}.py")
    started = time.perf_counter()
    app.run()
    cold = time.perf_counter() - started
    if app.exception:
        raise RuntimeError(f"{page}: {app.exception[0].message}")
    warm = []
    for _ in range(warm_runs):
        started = time.perf_counter()
        app.run()
        warm.append(time.perf_counter() - started)
    return cold, statistics.median(warm)


def main(
    home: Annotated[Path, typer.Option(help="A built home (its serving.duckdb is read).")] = Path(
        "/tmp/m100/home"
    ),
    warm_runs: Annotated[int, typer.Option(min=1)] = 5,
) -> None:
    os.environ["CLINICOPS_HOME"] = str(home.resolve())
    print(f"serving file: {home / 'serving.duckdb'}")
    import_libraries()
    print(f"| page | cold (s) | warm (ms) | cold ≤ {COLD_TARGET_S:g} s | warm ≤ 300 ms |")
    print("|---|---:|---:|:-:|:-:|")
    for page in PAGES:
        cold, warm = time_page(page, warm_runs)
        print(
            f"| {page} | {cold:.2f} | {warm * 1000:.0f} | "
            f"{'yes' if cold <= COLD_TARGET_S else 'NO'} | "
            f"{'yes' if warm <= WARM_TARGET_S else 'NO'} |"
        )


if __name__ == "__main__":
    typer.run(main)
