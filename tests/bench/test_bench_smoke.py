"""CI runs the benchmark harness once on a tiny practice (4 providers × 12 weeks): a smoke
test that it works end to end (generation, every stage, the increment, the floor, the
dashboard pages, the report), not a timing. The pandas peer is left out here
(`--no-peer`): it is the slowest step by far, and tests/bench/test_pandas_peer.py runs it
on the sample and checks its figures against kpi_values.

The whole `clinicops run` is left out here (`--run-sizes ""`): the session fixture of
tests/conftest.py already runs it on the sample, and the harness only wraps it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.e2e
def test_harness_runs_on_a_tiny_practice(tmp_path) -> None:
    out = tmp_path / "benchmarks.md"
    proc = subprocess.run(
        [
            sys.executable, "-m", "bench.run",
            "--sizes", "tiny", "--repeat", "1", "--run-sizes", "", "--no-peer",
            "--work", str(tmp_path / "work"), "--out", str(out),
        ],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        # generous: on a quiet machine a few minutes; under load 24 (7 Dec) the same run took 24 min
        timeout=3600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-5000:]
    assert "| practice | step | wall s (median) |" in proc.stdout
    report = out.read_text(encoding="utf-8")
    for heading in ("## Machine", "## Results", "## Targets"):
        assert heading in report
    raw = json.loads((tmp_path / "work" / "results.json").read_text(encoding="utf-8"))
    steps = {key.split("/", 1)[1] for key in raw}
    assert steps == {
        "floor", "land", "dbt build", "publish", "dashboard pages",
        "increment land", "increment build", "increment publish",
    }  # fmt: skip
    for runs in raw.values():
        (run,) = runs
        assert 0 < run["seconds"] < 1800
        assert 50 * 2**20 < run["peak_rss"] < 16 * 2**30
    full = sum(raw[f"tiny/{step}"][0]["seconds"] for step in ("land", "dbt build", "publish"))
    assert raw["tiny/floor"][0]["seconds"] < full
    assert "| tiny | full build (land + build + publish) |" in report
    assert "| tiny | increment (one week) |" in report
    pages = json.loads((tmp_path / "work" / "pages.json").read_text(encoding="utf-8"))
    assert set(pages["tiny"]) == {
        "scorecard", "access", "productivity", "revenue", "cost", "budget", "data_quality",
    }  # fmt: skip
    for (times,) in pages["tiny"].values():
        assert 0 < times["p50_s"] <= times["p95_s"] < 600
    assert "| tiny | scorecard |" in report
