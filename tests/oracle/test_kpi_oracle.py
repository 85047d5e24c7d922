"""marts.kpi_values against the oracle (an independent Polars reading of KPI_SPEC.md),
row by row: the same rows, and values equal within 1e-9 relative.

Two practices: the bundled sample with its corrections (default as-of date, calendar
fiscal year), and a small, differently shaped generated practice with its corrections
plus a delivery of hand-written edge cases, built with an as-of date in the middle of a
week and a month and a fiscal year starting in July. Every grain (week, month, fiscal
quarter, fiscal year) and the `complete` flag are compared.
"""

from __future__ import annotations

import subprocess
from datetime import date

import duckdb
import polars as pl
import pytest

from pipelines.core.home import Home
from pipelines.sample import generate_corrections, generate_practice
from tests.conftest import clinicops_command
from tests.oracle.compare import ON, disagreements, published, summary
from tests.oracle.edge_delivery import EDGE_CONFIG, EDGE_FISCAL_START, write_edge_delivery
from tests.oracle.lake_frames import Lake
from tests.oracle.reference import as_of_date, kpi_values

EDGE_AS_OF = date(2026, 6, 10)  # a Wednesday: shortens the week and the month


def _published_as_of(home: Home) -> date:
    with duckdb.connect(str(home.serving), read_only=True) as con:
        return con.sql("select as_of_date from marts.publish_info").fetchall()[0][0]


def _assert_agree(home: Home, as_of: date, fiscal_start: int = 1) -> None:
    oracle = kpi_values(home.root, as_of, fiscal_start)
    served = published(home.serving)
    # A row published twice would match its oracle row twice and hide in the join.
    for name, frame in (("oracle", oracle), ("kpi_values", served)):
        assert not frame.select(ON).is_duplicated().any(), f"{name} repeats a row"
    problems = disagreements(oracle, served)
    with pl.Config(tbl_rows=60, tbl_cols=12, tbl_width_chars=200):
        assert problems.is_empty(), f"kpi_values disagrees with the oracle:\n{summary(problems)}"


@pytest.fixture(scope="module")
def edge_home(tmp_path_factory) -> Home:
    root = tmp_path_factory.mktemp("oracle_edge")
    inbox, corrections, edge = root / "inbox", root / "corrections", root / "edge"
    generate_practice(inbox, providers=3, weeks=16, seed=11, end_date=date(2026, 6, 17))
    generate_corrections(inbox, corrections, seed=11)
    write_edge_delivery(edge, inbox)
    config = root / "config.yaml"
    config.write_text(EDGE_CONFIG, encoding="utf-8")
    home = Home(root / "home")
    folders = [arg for folder in (inbox, corrections, edge) for arg in ("--inbox", str(folder))]
    proc = subprocess.run(
        [
            clinicops_command(),
            "run",
            "--home",
            str(home.root),
            *folders,
            "--config",
            str(config),
            "--as-of",
            str(EDGE_AS_OF),
        ],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, (
        f"clinicops run failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}"
    )
    return home


@pytest.mark.e2e
def test_sample_kpi_values_match_the_oracle(sample_home):
    as_of = as_of_date(Lake(sample_home.root))
    assert _published_as_of(sample_home) == as_of
    _assert_agree(sample_home, as_of)


@pytest.mark.e2e
def test_edge_practice_kpi_values_match_the_oracle(edge_home):
    assert _published_as_of(edge_home) == EDGE_AS_OF
    _assert_agree(edge_home, EDGE_AS_OF, EDGE_FISCAL_START)
