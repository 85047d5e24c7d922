"""The sample practice landed through X12 835 (payments) and FHIR (scheduling) publishes
the same KPI values as its CSVs: the real `clinicops run` (Dagster, dbt, DuckDB) twice."""

from __future__ import annotations

import subprocess
from pathlib import Path

import duckdb
import polars as pl
import pytest

from pipelines.core.home import Home
from pipelines.sample import generate_practice
from pipelines.sample.standard import write_standard_inbox
from tests.conftest import clinicops_command

AS_OF = "2026-11-22"
KEY = ["period_grain", "period_start", "scope", "scope_id", "kpi"]
# KPIs fed by what the standard inbox carries differently: payer transactions (835) and
# locations, provider slots and appointments (FHIR). Every KPI is compared; these must be
# among them, with values.
FED = {
    "payments", "initial_denial_rate", "ar_balance", "days_in_ar",
    "ar_aging_0_30", "ar_over_90_share", "completed_visits", "no_show_rate",
    "late_cancel_rate", "new_patient_lead_time_days", "lobby_wait_min_p50",
    "wait_for_provider_min_p50", "cycle_time_min_p90", "schedule_utilization",
    "third_next_available_days",
}  # fmt: skip
pytestmark = pytest.mark.e2e


def _run(home: Path, inbox: Path) -> pl.DataFrame:
    proc = subprocess.run(
        [clinicops_command(), "run", "--home", str(home), "--inbox", str(inbox),
         "--as-of", AS_OF],
        capture_output=True, text=True, timeout=1500,
    )  # fmt: skip
    if proc.returncode != 0:
        pytest.fail(f"clinicops run failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}")
    with duckdb.connect(str(Home(home).serving), read_only=True) as con:
        return con.sql("select * from marts.kpi_values").pl()


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> dict[str, pl.DataFrame]:
    root = tmp_path_factory.mktemp("round_trip")
    csv_inbox, standard_inbox = root / "csv", root / "standard"
    generate_practice(csv_inbox, providers=2, weeks=10, seed=7)
    files = write_standard_inbox(csv_inbox, standard_inbox)
    assert files["835"] > 10 and files["ndjson"] == 5
    assert not (standard_inbox / "scheduling" / "appointments.csv.gz").exists()
    return {
        "csv": _run(root / "home_csv", csv_inbox),
        "standard": _run(root / "home_standard", standard_inbox),
    }


def test_the_same_kpi_values_through_835_and_fhir(published):
    csv, standard = published["csv"], published["standard"]
    assert csv.height > 1000
    assert set(csv["kpi"].unique()) >= FED, FED - set(csv["kpi"].unique())
    joined = csv.join(standard, on=KEY, how="full", suffix="_std", nulls_equal=True)
    only_one_side = joined.filter(pl.col("kpi").is_null() | pl.col("kpi_std").is_null())
    assert only_one_side.height == 0, only_one_side.head(10)
    joined = joined.filter(pl.col("kpi").is_not_null())
    for column in ("value", "numerator", "denominator"):
        a, b = pl.col(column), pl.col(f"{column}_std")
        differs = (a.is_null() != b.is_null()) | ((a - b).abs() > 1e-9 * (1 + a.abs()))
        wrong = joined.filter(differs)
        assert wrong.height == 0, wrong.select(*KEY, column, f"{column}_std").head(10)
    # The compared rows carry values for the KPIs those files feed, not only nulls.
    fed = csv.filter(pl.col("kpi").is_in(FED), pl.col("value").is_not_null())
    assert set(fed["kpi"].unique()) == FED
