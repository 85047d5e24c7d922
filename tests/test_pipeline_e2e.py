"""The whole pipeline on the bundled sample: `clinicops run` lands, builds and publishes,
and the published KPIs agree with figures computed here, independently of dbt, from the
landed lake with plain Polars."""

from __future__ import annotations

import gzip
import re
from datetime import date, timedelta

import duckdb
import polars as pl
import pytest

from tests.conftest import SAMPLE_CORRECTIONS, SAMPLE_INBOX

pytestmark = pytest.mark.e2e

SPEC_KPIS = {
    "completed_visits", "no_show_rate", "late_cancel_rate", "new_patient_lead_time_days",
    "lobby_wait_min_p50", "lobby_wait_min_p90", "wait_for_provider_min_p50",
    "wait_for_provider_min_p90", "cycle_time_min_p50", "cycle_time_min_p90",
    "schedule_utilization", "third_next_available_days", "work_rvus",
    "visits_per_provider_fte", "work_rvus_per_provider_fte", "gross_charges",
    "new_patient_share", "payments", "ar_balance", "days_in_ar", "ar_aging_0_30",
    "ar_aging_31_60", "ar_aging_61_90", "ar_aging_91_120", "ar_aging_over_120",
    "ar_over_90_share", "ar_credit_balance", "initial_denial_rate", "net_collection_rate",
    "charge_lag_days",
    "payer_mix_commercial", "payer_mix_medicare", "payer_mix_medicaid", "payer_mix_self_pay",
    "payer_mix_other", "labor_cost", "non_labor_cost", "operating_cost", "cost_per_visit",
    "labor_cost_per_visit", "support_staff_per_provider_fte", "overtime_share",
    "operating_margin", "operating_margin_pct", "staff_turnover_rate",
    "budget_variance_completed_visits", "budget_variance_gross_charges",
    "budget_variance_collections", "budget_variance_labor_cost",
}  # fmt: skip


@pytest.fixture(scope="module")
def serving(sample_home):
    con = duckdb.connect(str(sample_home.serving), read_only=True)
    yield con
    con.close()


@pytest.fixture(scope="module")
def as_of(serving) -> date:
    return serving.execute("select as_of_date from marts.publish_info").fetchall()[0][0]


def newest(home, entity: str, key: list[str]) -> pl.DataFrame:
    """The newest version of each key, by delivery then line (CONTRACTS.md)."""
    frame = pl.read_parquet(home.raw / entity / "*" / "*.parquet")
    return frame.sort("_delivery_id", "_line").unique(subset=key, keep="last")


def kpi(serving, name: str, grain: str, scope: str) -> pl.DataFrame:
    return serving.sql(
        "select period_start, scope_id, value, numerator, denominator from marts.kpi_values "
        "where kpi = ? and period_grain = ? and scope = ? order by period_start, scope_id",
        params=[name, grain, scope],
    ).pl()


def test_run_reports_the_serving_file(sample_run):
    home, proc = sample_run
    assert home.serving.exists()
    assert str(home.serving) in (proc.stdout + proc.stderr).replace("\n", "")


def test_kpi_values_has_the_published_columns(serving):
    columns = serving.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_schema = 'marts' and table_name = 'kpi_values' order by ordinal_position"
    ).fetchall()
    assert columns == [
        ("period_grain", "VARCHAR"), ("period_start", "DATE"), ("scope", "VARCHAR"),
        ("scope_id", "VARCHAR"), ("kpi", "VARCHAR"), ("value", "DOUBLE"),
        ("numerator", "DOUBLE"), ("denominator", "DOUBLE"), ("complete", "BOOLEAN"),
    ]  # fmt: skip


def test_every_spec_kpi_is_published(serving):
    published = {
        row[0] for row in serving.execute("select distinct kpi from marts.kpi_values").fetchall()
    }
    assert SPEC_KPIS - published == set()
    grains = serving.execute("select distinct period_grain, scope from marts.kpi_values").fetchall()
    every_grain = ("week", "month", "quarter", "year")
    scopes = ("practice", "location", "provider")
    assert {(g, s) for g in every_grain for s in scopes} <= set(grains)


def test_nothing_lost_at_landing(sample_home):
    ledger = pl.read_parquet(sample_home.ledger / "*.parquet")
    loaded = ledger.filter(pl.col("status") == "loaded")
    assert loaded.height >= 11
    assert (loaded["rows_received"] == loaded["rows_loaded"] + loaded["rows_rejected"]).all()
    # The corrections delivery carries broken rows: they are kept aside, with line numbers.
    rejected = pl.read_parquet(sample_home.rejected / "*" / "*" / "*.parquet")
    assert rejected.height > 0
    assert rejected["_line"].min() >= 2
    assert loaded["rows_rejected"].sum() == rejected.unique(["_delivery_id", "_line"]).height


def _input_values(column: str) -> set[str]:
    values: set[str] = set()
    for path in [*SAMPLE_INBOX.rglob("*.csv.gz"), *SAMPLE_CORRECTIONS.rglob("*.csv.gz")]:
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            header = fh.readline().strip().split(",")
        if column in header:
            frame = pl.read_csv(path, columns=[column], infer_schema=False)
            values |= {v.strip() for v in frame[column].drop_nulls() if v.strip()}
    return values


def test_no_personal_data_after_landing(sample_home, serving):
    patient_ids = _input_values("patient_id")
    names = _input_values("full_name")
    assert patient_ids and names
    secret = patient_ids | names
    for path in sample_home.lake.rglob("*.parquet"):
        frame = pl.read_parquet(path)
        for column in frame.columns:
            if frame[column].dtype == pl.String:
                found = set(frame[column].drop_nulls()) & secret
                assert not found, f"{path}:{column} carries personal data"
            if column == "_raw" or column == "_extra":
                text = " ".join(frame[column].drop_nulls())
                assert not any(re.search(rf"\b{re.escape(v)}\b", text) for v in names)
    tables = serving.execute(
        "select table_schema, table_name, column_name from information_schema.columns "
        "where data_type = 'VARCHAR'"
    ).fetchall()
    for schema, table, column in tables:
        values = {
            r[0]
            for r in serving.execute(
                f'select distinct "{column}" from {schema}."{table}"'
            ).fetchall()
        }
        assert not values & secret, f"{schema}.{table}.{column} carries personal data"


def test_gross_charges_by_month_match_an_independent_sum(sample_home, serving, as_of):
    charges = newest(sample_home, "charges", ["charge_id"]).filter(pl.col("service_date") <= as_of)
    expected = (
        charges.group_by(pl.col("service_date").dt.truncate("1mo").alias("period_start"))
        .agg(pl.col("charge_amount").sum().alias("expected"))
        .sort("period_start")
    )
    published = kpi(serving, "gross_charges", "month", "practice")
    joined = expected.join(published, on="period_start", how="full", coalesce=True)
    assert joined.height == expected.height
    assert joined["value"].to_list() == pytest.approx(joined["expected"].to_list(), rel=1e-9)


def test_payments_and_ar_balance_match_an_independent_ledger(sample_home, serving, as_of):
    charges = newest(sample_home, "charges", ["charge_id"])
    tx = newest(sample_home, "transactions", ["transaction_id"])
    signed = tx.with_columns(
        pl.when(pl.col("transaction_type").is_in(["payer_payment", "patient_payment"]))
        .then(pl.col("amount"))
        .when(pl.col("transaction_type") == "refund")
        .then(-pl.col("amount"))
        .otherwise(0.0)
        .alias("payment")
    ).filter(pl.col("posted_date") <= as_of)
    expected = signed.group_by(pl.col("posted_date").dt.truncate("1mo").alias("period_start")).agg(
        pl.col("payment").sum().alias("expected")
    )
    published = kpi(serving, "payments", "month", "practice").join(expected, on="period_start")
    assert published.height == expected.height
    assert published["value"].to_list() == pytest.approx(published["expected"].to_list())

    # A/R at the end of the last complete month: charges posted minus
    # payments, adjustments and write-offs, plus refunds.
    month_end = as_of.replace(day=1) - timedelta(days=1)
    lowers = ["payer_payment", "patient_payment", "contractual_adjustment", "write_off"]
    balance = (
        charges.filter(pl.col("posted_date") <= month_end)["charge_amount"].sum()
        - tx.filter(
            (pl.col("posted_date") <= month_end) & pl.col("transaction_type").is_in(lowers)
        )["amount"].sum()
        + tx.filter(
            (pl.col("posted_date") <= month_end) & (pl.col("transaction_type") == "refund")
        )["amount"].sum()
    )
    ar = kpi(serving, "ar_balance", "month", "practice").filter(
        pl.col("period_start") == month_end.replace(day=1)
    )
    assert ar["value"].item() == pytest.approx(balance, rel=1e-9)


def _local_appointments(home) -> pl.DataFrame:
    appointments = newest(home, "appointments", ["appointment_id"])
    locations = newest(home, "locations", ["location_id"])
    parts = []
    for location_id, tz in locations.select("location_id", "timezone").iter_rows():
        part = appointments.filter(pl.col("location_id") == location_id)
        converted = (
            (pl.col("scheduled_start") - pl.duration(minutes=pl.col("scheduled_start_offset_min")))
            .dt.replace_time_zone("UTC")
            .dt.convert_time_zone(tz)
            .dt.replace_time_zone(None)
        )
        local = (
            pl.when(pl.col("scheduled_start_offset_min").is_null() | pl.lit(tz is None))
            .then(pl.col("scheduled_start"))
            .otherwise(converted)
            if tz
            else pl.col("scheduled_start")
        )
        parts.append(part.with_columns(local.dt.date().alias("local_date")))
    return pl.concat(parts)


def test_visits_and_no_show_rate_by_location_match_independent_counts(sample_home, serving, as_of):
    appts = _local_appointments(sample_home).filter(pl.col("local_date") <= as_of)
    expected = (
        appts.group_by(pl.col("local_date").dt.truncate("1mo").alias("period_start"), "location_id")
        .agg(
            (pl.col("status") == "completed").sum().alias("completed"),
            (pl.col("status") == "no_show").sum().alias("no_show"),
        )
        .rename({"location_id": "scope_id"})
    )
    visits = kpi(serving, "completed_visits", "month", "location").join(
        expected, on=["period_start", "scope_id"]
    )
    assert visits.height == expected.height
    assert (visits["value"] == visits["completed"].cast(pl.Float64)).all()
    rates = kpi(serving, "no_show_rate", "month", "location").join(
        expected, on=["period_start", "scope_id"]
    )
    assert rates.height == expected.height
    expected_rate = rates["no_show"] / (rates["completed"] + rates["no_show"])
    assert rates["value"].to_list() == pytest.approx(expected_rate.to_list(), rel=1e-12)
    overall = rates["no_show"].sum() / (rates["completed"].sum() + rates["no_show"].sum())
    assert 0.04 < overall < 0.11  # the sample is shaped around MGMA's ~7%
