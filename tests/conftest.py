"""Shared fixtures. The sample practice is landed, built and published once per session
by the real `clinicops run` (Dagster, dbt, DuckDB), into a temporary home."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipelines.core.home import Home

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SAMPLE_INBOX = PROJECT_ROOT / "data" / "sample" / "inbox"
SAMPLE_CORRECTIONS = PROJECT_ROOT / "data" / "sample" / "corrections"
# Landing refuses to run without a pseudonymisation key and never makes one up: every
# test (and every `clinicops` it starts) lands the sample with this one, set explicitly.
TEST_PSEUDONYM_KEY = "tests-only-pseudonym-key-" + "k" * 16
os.environ.setdefault("CLINICOPS_PSEUDONYM_KEY", TEST_PSEUDONYM_KEY)


# Fixtures that build a practice with the real pipeline (a minute or more each): a test
# that uses one, directly or through another fixture, is `slow`, and `make fast`
# (`pytest -m "not slow"`) leaves it out. Markers of whole-pipeline tests count too.
SLOW_FIXTURES = {"sample_run", "baseline_home"}
SLOW_MARKERS = {"e2e", "spark", "extended"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        markers = {mark.name for mark in item.iter_markers()}
        if fixtures & SLOW_FIXTURES or markers & SLOW_MARKERS:
            item.add_marker(pytest.mark.slow)


def clinicops_command() -> str:
    return str(Path(sys.executable).with_name("clinicops"))


@pytest.fixture(scope="session")
def sample_run(tmp_path_factory) -> tuple[Home, subprocess.CompletedProcess]:
    home = Home(tmp_path_factory.mktemp("sample_home"))
    proc = subprocess.run(
        [clinicops_command(), "run", "--home", str(home.root)],
        env={**os.environ, "CLINICOPS_PSEUDONYM_KEY": TEST_PSEUDONYM_KEY},
        capture_output=True,
        text=True,
        timeout=900,
    )
    if proc.returncode != 0:
        pytest.fail(f"clinicops run failed:\n{proc.stdout[-5000:]}\n{proc.stderr[-8000:]}")
    return home, proc


@pytest.fixture(scope="session")
def sample_home(sample_run) -> Home:
    return sample_run[0]
