"""The `clinicops` command as scripts and schedules call it: real processes, real files."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
from datetime import date

import duckdb
import pytest

from pipelines.core.contracts import CONTRACTS
from pipelines.core.home import Home
from tests.conftest import clinicops_command


def clinicops(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([clinicops_command(), *args], capture_output=True, text=True, timeout=900)


def test_sample_command_writes_every_contract_file(tmp_path):
    proc = clinicops(
        "sample", "--providers", "2", "--weeks", "3", "--seed", "5", "--out", str(tmp_path / "in")
    )
    assert proc.returncode == 0, proc.stderr
    written = sorted(
        p.relative_to(tmp_path / "in").as_posix() for p in (tmp_path / "in").rglob("*")
    )
    assert "scheduling/appointments.csv.gz" in written
    assert len([p for p in written if p.endswith(".csv.gz")]) == len(CONTRACTS)  # providers too
    assert "appointments" in proc.stderr  # row counts are reported


def test_kpis_prints_published_rows_as_csv_and_json(sample_home):
    proc = clinicops(
        "kpis", "--home", str(sample_home.root), "--grain", "month", "--scope", "location",
        "--kpi", "completed_visits",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.DictReader(io.StringIO(proc.stdout)))
    assert rows and {r["kpi"] for r in rows} == {"completed_visits"}
    assert {r["scope"] for r in rows} == {"location"}
    with duckdb.connect(str(sample_home.serving), read_only=True) as con:
        expected = con.execute(
            "select count(*) from marts.kpi_values where kpi = 'completed_visits' "
            "and period_grain = 'month' and scope = 'location'"
        ).fetchall()[0][0]
    assert len(rows) == expected
    as_json = clinicops("kpis", "--home", str(sample_home.root), "--format", "json")
    assert as_json.returncode == 0, as_json.stderr
    records = json.loads(as_json.stdout)
    assert records and all(
        r["scope"] == "practice" and r["period_grain"] == "week" for r in records
    )


def test_kpis_without_a_serving_file_is_a_clear_error(tmp_path):
    proc = clinicops("kpis", "--home", str(tmp_path))
    assert proc.returncode == 2
    assert "serving.duckdb does not exist" in proc.stderr


def test_malformed_as_of_is_refused_before_any_work(tmp_path):
    proc = clinicops("run", "--home", str(tmp_path / "h"), "--as-of", "2026-13-01")
    assert proc.returncode != 0
    assert "not a date" in proc.stderr
    assert not (tmp_path / "h").exists()


@pytest.mark.e2e
def test_as_of_cuts_every_kpi_at_that_date(sample_home, tmp_path):
    """Build the landed sample again as of 2026-06-30 in a separate home."""
    home = Home(tmp_path / "asof")
    shutil.copytree(sample_home.lake, home.lake)
    build = clinicops("build", "--home", str(home.root), "--as-of", "2026-06-30")
    assert build.returncode == 0, build.stdout[-3000:] + build.stderr[-3000:]
    assert clinicops("publish", "--home", str(home.root)).returncode == 0
    with duckdb.connect(str(home.serving), read_only=True) as con:
        assert con.execute("select as_of_date from marts.publish_info").fetchall() == [
            (date(2026, 6, 30),)
        ]
        last = dict(
            con.execute(
                "select period_grain, max(period_start) from marts.kpi_values group by 1"
            ).fetchall()
        )
        # Net collection is shown only for months that ended 90+ days before the as-of date.
        ncr_last = con.execute(
            "select max(period_start) from marts.kpi_values where kpi = 'net_collection_rate'"
        ).fetchall()[0][0]
    assert last == {
        "week": date(2026, 6, 29),
        "month": date(2026, 6, 1),
        "quarter": date(2026, 4, 1),
        "year": date(2026, 1, 1),
    }
    assert ncr_last == date(2026, 3, 1)
