"""The presets end to end: vendor-shaped exports in, `marts.kpi_values` out, by config alone.

One real `clinicops run` (Dagster, dbt, DuckDB) lands four vendor exports, each where a
practice would drop it (a source folder, a week sub-folder, the inbox's top level), with
`presets:` naming the four mappings. The figures below were computed by hand from the
rows in vendor_files.py. The inbox also holds an unknown file and a folder named like a
file: the run publishes, names both in its summary, and exits 3.
"""

from __future__ import annotations

import subprocess
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest

from pipelines.core.home import Home
from pipelines.land.ledger import ledger
from tests.conftest import clinicops_command
from tests.mapping.vendor_files import KAGGLE_NO_SHOW, PRESETS, write_vendor_inbox

WEEK_APPOINTMENTS = date(2016, 4, 25)
WEEK_PAYMENTS = date(2016, 5, 2)


@pytest.fixture(scope="module")
def vendor_run(tmp_path_factory):
    root = tmp_path_factory.mktemp("vendor")
    inbox = root / "inbox"
    write_vendor_inbox(inbox)
    (inbox / "notes.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    (inbox / "scheduling" / "appointments.csv").mkdir()
    config = root / "clinicops.yaml"
    config.write_text(f"presets: [{', '.join(PRESETS)}]\n", encoding="utf-8")
    home = Home(root / "home")
    proc = subprocess.run(
        [clinicops_command(), "run", "--home", str(home.root), "--inbox", str(inbox),
         "--config", str(config)],
        capture_output=True, text=True, timeout=1500, env=_wide_terminal(),
    )  # fmt: skip
    return home, proc


def _wide_terminal() -> dict[str, str]:
    import os

    return {**os.environ, "COLUMNS": "250"}


def _kpi(home: Home, kpi: str, start: date, scope: str = "practice", scope_id: str = "all",
         grain: str = "week") -> float | None:  # fmt: skip
    with duckdb.connect(str(home.serving), read_only=True) as con:
        rows = con.execute(
            "select value from marts.kpi_values where kpi = ? and period_grain = ? "
            "and period_start = ? and scope = ? and scope_id = ?",
            [kpi, grain, start, scope, scope_id],
        ).fetchall()
    assert len(rows) == 1, (kpi, start, scope, scope_id, rows)
    return rows[0][0]


def test_run_publishes_and_exits_3_naming_what_it_refused(vendor_run):
    home, proc = vendor_run
    assert proc.returncode == 3, proc.stderr[-3000:]
    assert home.serving.exists()
    assert "Landing summary" in proc.stderr
    assert "notes.csv" in proc.stderr and "unknown entity" in proc.stderr
    assert "scheduling/appointments.csv" in proc.stderr and "is a folder" in proc.stderr
    assert "published, but 2 file(s) or entries were refused" in proc.stderr


def test_every_delivery_balances_with_filtered_rows(vendor_run):
    home, _proc = vendor_run
    entries = ledger(home).filter(pl.col("status") == "loaded")
    balance = pl.col("rows_loaded") + pl.col("rows_rejected") + pl.col("rows_filtered")
    assert (entries["rows_received"] == entries.select(balance).to_series()).all()
    by_route = {r["route"]: r for r in entries.iter_rows(named=True)}
    assert by_route["medisoft_charges"]["rows_filtered"] == 7  # payments, transfer
    assert by_route["medisoft_payer_transactions"]["rows_loaded"] == 3
    assert by_route["medisoft_patient_transactions"]["rows_loaded"] == 3
    assert by_route["pm_appointment_report"]["rows_filtered"] == 1  # the block
    assert by_route["pm_appointment_report"]["file_name"] == "ApptReport_20160429.csv"
    assert by_route["medisoft_charges"]["file_name"] == "2016-W18/Transactions_2016-05-05.csv"


def test_kaggle_no_shows_publishes_the_no_show_rate(vendor_run):
    home, _proc = vendor_run
    for place, rate in KAGGLE_NO_SHOW.items():
        assert _kpi(home, "no_show_rate", WEEK_APPOINTMENTS, "location", place) == pytest.approx(
            rate
        )


def test_pm_appointment_report_figures(vendor_run):
    home, _proc = vendor_run
    week = WEEK_APPOINTMENTS
    assert _kpi(home, "no_show_rate", week, "location", "MAIN") == pytest.approx(2 / 8)
    assert _kpi(home, "late_cancel_rate", week, "location", "MAIN") == pytest.approx(1 / 9)
    assert _kpi(home, "completed_visits", week, "location", "MAIN") == 6
    assert _kpi(home, "lobby_wait_min_p50", week, "location", "MAIN") == pytest.approx(17.5)
    # The practice: Kaggle's 3 no-shows of 12 and the report's 2 of 8.
    assert _kpi(home, "no_show_rate", week) == pytest.approx(5 / 20)


def test_medisoft_transactions_figures(vendor_run):
    home, _proc = vendor_run
    assert _kpi(home, "gross_charges", WEEK_APPOINTMENTS) == pytest.approx(1520.50)
    assert _kpi(home, "payments", WEEK_PAYMENTS) == pytest.approx(1135.00)
    assert _kpi(home, "ar_balance", WEEK_PAYMENTS) == pytest.approx(355.50)


def test_european_gl_export_figures(vendor_run):
    home, _proc = vendor_run
    assert _kpi(
        home, "non_labor_cost", date(2016, 4, 1), "location", "MAIN", grain="month"
    ) == pytest.approx(3634.56)


def test_no_personal_data_reaches_the_serving_file(vendor_run, tmp_path: Path):
    home, _proc = vendor_run
    data = home.serving.read_bytes()
    for secret in (b"CH001", b"29872499824296", b"100104"):
        assert secret not in data
