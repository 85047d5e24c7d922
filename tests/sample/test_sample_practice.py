"""The generated practice: reproducible, within the contracts, and shaped like a clinic."""

from __future__ import annotations

import gzip
from datetime import date, datetime, timedelta

import polars as pl

from pipelines.core.contracts import (
    APPOINTMENT_STATUSES,
    APPOINTMENT_TYPES,
    BUDGET_VOLUME_LINES,
    CONTRACTS,
    FINANCIAL_CLASSES,
    GL_ACCOUNTS,
    STAFF_ROLES,
    TRANSACTION_TYPES,
)
from pipelines.sample import generate_practice
from pipelines.sample.billing import CODES_ABSENT_FROM_RVU_FILE
from pipelines.sample.staff import ABSENT_EMPLOYEE_ID
from pipelines.sample.writer import inbox_path
from tests.sample.conftest import read_text, reference_file, validated

END = date(2026, 11, 22)


def _local(frame: pl.DataFrame, *columns: str) -> pl.DataFrame:
    """Parse local wall-clock stamps; values written with a UTC offset become null."""
    return frame.with_columns(
        pl.col(c).str.strptime(pl.Datetime, "%Y-%m-%d %H:%M:%S", strict=False).alias(c)
        if c != "scheduled_start"
        else pl.col(c).str.strptime(pl.Datetime, "%Y-%m-%d %H:%M", strict=False)
        for c in columns
    )


def test_same_arguments_give_the_same_bytes(tmp_path):
    args = dict(providers=2, weeks=3, seed=11)
    first = generate_practice(tmp_path / "a", **args)
    second = generate_practice(tmp_path / "b", **args)
    other = generate_practice(tmp_path / "c", **{**args, "seed": 12})
    assert first == second
    for contract in CONTRACTS:
        a = inbox_path(tmp_path / "a", contract.entity).read_bytes()
        assert a == inbox_path(tmp_path / "b", contract.entity).read_bytes(), contract.entity
        # gzip's header carries no time stamp and no file name.
        assert a[4:8] == b"\0\0\0\0" and not a[3] & 0x08
    appointments = inbox_path(tmp_path / "c", "appointments").read_bytes()
    assert appointments != inbox_path(tmp_path / "a", "appointments").read_bytes()
    assert other != first


def test_every_entity_has_exactly_the_contract_columns(small_practice):
    folder, counts = small_practice
    assert set(counts) == {c.entity for c in CONTRACTS}
    for contract in CONTRACTS:
        path = inbox_path(folder, contract.entity)
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            header = fh.readline().rstrip("\n").split(",")
        assert tuple(header) == contract.names
        assert read_text(folder, contract.entity).height == counts[contract.entity] > 0


def test_history_passes_landing_validation(small_practice):
    """Only the corrections delivery carries broken rows; the history loads whole."""
    folder, _ = small_practice
    for contract in CONTRACTS:
        errors = validated(folder, contract.entity).errors
        assert errors.is_empty(), (contract.entity, errors.head(5).to_dicts())


def test_keys_are_unique(small_practice):
    folder, _ = small_practice
    for contract in CONTRACTS:
        frame = read_text(folder, contract.entity)
        assert not frame.select(contract.key).is_duplicated().any(), contract.entity


def test_status_mix_no_shows_and_cancellations(small_practice):
    appointments = _local(
        read_text(small_practice[0], "appointments"), "scheduled_start", "cancelled_at"
    )
    status = appointments["status"].value_counts()
    count = dict(zip(status["status"], status["count"], strict=True))
    assert set(count) == set(APPOINTMENT_STATUSES)
    assert set(appointments["appointment_type"]) == set(APPOINTMENT_TYPES)
    no_show_rate = count["no_show"] / (count["no_show"] + count["completed"])
    assert 0.04 <= no_show_rate <= 0.11  # MGMA puts the median near 7 %
    assert 0.07 <= count["cancelled"] / appointments.height <= 0.2

    cutoff = datetime.combine(END + timedelta(days=1), datetime.min.time())
    known = appointments.filter(pl.col("scheduled_start").is_not_null())
    assert (known.filter(pl.col("status") == "scheduled")["scheduled_start"] >= cutoff).all()
    past = known.filter(pl.col("status").is_in(["completed", "no_show"]))
    assert (past["scheduled_start"] < cutoff).all()

    notice = (
        appointments.filter(pl.col("status") == "cancelled")
        .select(hours=(pl.col("scheduled_start") - pl.col("cancelled_at")).dt.total_minutes() / 60)
        .drop_nulls()["hours"]
    )
    assert (notice < 24).sum() > 0, "late cancels"
    assert (notice == 24).sum() > 0, "cancels exactly 24 h ahead"
    assert (notice > 24).sum() > (notice < 24).sum()


def test_new_patients_wait_longer_than_established(small_practice):
    appointments = _local(read_text(small_practice[0], "appointments"), "scheduled_start")
    appointments = appointments.with_columns(
        booked_at=pl.col("booked_at").str.strptime(pl.Datetime, "%Y-%m-%d %H:%M:%S", strict=False)
    )
    lead = (
        appointments.filter(pl.col("status").is_in(["completed", "no_show"]))
        .group_by("appointment_type")
        .agg(
            days=((pl.col("scheduled_start") - pl.col("booked_at")).dt.total_hours() / 24).median()
        )
    )
    days = dict(zip(lead["appointment_type"], lead["days"], strict=True))
    assert days["new_patient"] > 2 * days["established"]
    assert (appointments.drop_nulls(["booked_at", "scheduled_start"]).select(
        (pl.col("booked_at") < pl.col("scheduled_start")).all()
    ).item())  # fmt: skip


def test_visit_times_are_in_order_except_a_few_broken_rows(small_practice):
    stamps = ("checked_in_at", "roomed_at", "provider_start_at", "checked_out_at")
    completed = read_text(small_practice[0], "appointments").filter(pl.col("status") == "completed")
    offsets = pl.any_horizontal(pl.col(c).str.contains(r"T") for c in stamps)
    visits = _local(completed.filter(~offsets.fill_null(False)), *stamps)
    steps = [
        (pl.col(b) - pl.col(a)).dt.total_minutes().alias(f"{a}->{b}")
        for a, b in zip(stamps, stamps[1:], strict=False)
    ]
    intervals = visits.select(
        *steps, cycle=(pl.col("checked_out_at") - pl.col("checked_in_at")).dt.total_minutes()
    )
    broken = pl.any_horizontal(
        pl.any_horizontal(pl.all().is_null()),
        pl.any_horizontal(pl.all() < 0),
        pl.col("cycle") > 720,
    )
    share = intervals.select(broken.mean()).item()
    assert 0 < share < 0.03
    assert completed["checked_in_at"].null_count() == 0
    lobby = intervals.filter(~broken)["checked_in_at->roomed_at"]
    assert 8 <= lobby.median() <= 22
    assert lobby.quantile(0.9) > 1.8 * lobby.median()  # a long tail
    not_seen = read_text(small_practice[0], "appointments").filter(pl.col("status") != "completed")
    assert (
        not_seen.select(pl.col(*stamps, "encounter_id").null_count().sum()).row(0)
        == (not_seen.height,) * 5
    )


def test_appointments_sit_in_template_slots(small_practice):
    folder, _ = small_practice
    slots = read_text(folder, "provider_slots")
    appointments = read_text(folder, "appointments").filter(
        pl.col("scheduled_start").str.len_chars() == 16
    )
    matched = appointments.join(
        slots,
        left_on=["provider_id", "location_id", "scheduled_start", "scheduled_minutes"],
        right_on=["provider_id", "location_id", "slot_start", "slot_minutes"],
        how="semi",
    )
    assert matched.height == appointments.height
    assert set(slots["slot_minutes"].cast(int)) <= {15, 20, 30, 40}
    horizon = slots["slot_start"].str.slice(0, 10).str.to_date().max()
    assert horizon > END + timedelta(weeks=10)
    # Closed on Thanksgiving and at weekends.
    days = slots["slot_start"].str.slice(0, 10).str.to_date()
    assert date(2026, 11, 26) not in set(days)
    assert (days.dt.weekday() <= 5).all()


def test_billing_codes_exist_in_the_rvu_file_except_the_deliberate_few(small_practice):
    charges = read_text(small_practice[0], "charges")
    rvu = pl.read_csv(reference_file("cms_pfs_rvu_2025.csv"), infer_schema=False)
    known = set(rvu["hcpcs"])
    unknown = set(charges["cpt_code"]) - known
    assert unknown <= set(CODES_ABSENT_FROM_RVU_FILE)
    assert {"99213", "36415", "90471", "93000"} <= set(charges["cpt_code"])
    assert {"25", "95"} <= set(charges["modifier"].drop_nulls())
    with_modifier = charges.filter(pl.col("modifier") == "26").select("cpt_code", "modifier")
    in_rvu = with_modifier.join(
        rvu, left_on=["cpt_code", "modifier"], right_on=["hcpcs", "modifier"], how="semi"
    )
    assert in_rvu.height == with_modifier.height
    posted = charges.select(pl.col("service_date", "posted_date").str.to_date())
    lag = (posted["posted_date"] - posted["service_date"]).dt.total_days()
    assert lag.min() >= 0 and lag.median() <= 3 and lag.max() > 7


def test_every_transaction_type_and_financial_class(small_practice):
    folder, _ = small_practice
    transactions = read_text(folder, "transactions")
    assert set(transactions["transaction_type"]) == set(TRANSACTION_TYPES)
    payers = read_text(folder, "payers")
    charges = read_text(folder, "charges").join(payers, on="payer_id")
    assert set(charges["financial_class"]) == set(FINANCIAL_CLASSES)

    denials = transactions.filter(pl.col("transaction_type") == "denial")
    assert (denials["amount"].cast(float) == 0).all()
    carc = set(
        pl.read_csv(reference_file("carc_reason_codes.csv"), infer_schema=False)["carc_code"]
    )
    reasons = transactions["reason_code"].drop_nulls()
    assert set(reasons.str.split("-").list.get(1)) <= carc
    assert set(reasons.str.slice(0, 3)) == {"CO-", "PR-"}
    assert {"CO-45", "CO-97"} <= set(reasons)
    # Some transactions are line-level, some claim-level; a few belong to no known claim.
    assert 0 < transactions["charge_id"].null_count() < transactions.height
    claims = read_text(folder, "claims")
    orphans = transactions.join(claims, on="claim_id", how="anti")
    assert 1 <= orphans.height <= 10
    assert set(charges["claim_id"]) == set(claims["claim_id"])


def test_payers_behave_by_financial_class(small_practice):
    folder, _ = small_practice
    lines = read_text(folder, "charges").join(read_text(folder, "payers"), on="payer_id")
    moves = read_text(folder, "transactions").filter(pl.col("charge_id").is_not_null())
    paid = (
        moves.join(lines, on="charge_id")
        .filter(pl.col("reason_code") == "CO-45")
        .group_by("financial_class")
        .agg(
            discount=pl.col("amount").cast(float).sum() / pl.col("charge_amount").cast(float).sum()
        )
    )
    share = dict(zip(paid["financial_class"], paid["discount"], strict=True))
    assert share["medicaid"] > share["medicare"] > share["commercial"]


def test_staff_roles_turnover_and_payroll(small_practice):
    folder, _ = small_practice
    staff = read_text(folder, "staff")
    assert set(staff["role"]) == set(STAFF_ROLES)
    fte = staff["fte"].cast(float)
    assert ((fte > 0) & (fte <= 1)).all()
    clinicians = staff.filter(pl.col("provider_id").is_not_null())
    assert set(clinicians["role"]) <= {"physician", "nurse_practitioner", "physician_assistant"}
    scheduled = set(read_text(folder, "provider_slots")["provider_id"])
    assert scheduled <= set(clinicians["provider_id"])
    assert staff["full_name"].str.contains(r"^[A-Z][a-z]+ [A-Z][a-z]+$").all()

    sheets = read_text(folder, "timesheets")
    period = sheets.select(pl.col("pay_period_start", "pay_period_end").str.to_date())
    assert ((period["pay_period_end"] - period["pay_period_start"]).dt.total_days() == 13).all()
    assert (period["pay_period_end"] <= END).all()
    assert set(sheets["employee_id"]) - set(staff["employee_id"]) == {ABSENT_EMPLOYEE_ID}
    assert (sheets["overtime_hours"].cast(float) > 0).any()
    assert (sheets["pto_hours"].cast(float) > 0).any()


def test_ledger_and_budget_cover_every_account_and_month(small_practice):
    folder, _ = small_practice
    gl = read_text(folder, "gl_expenses")
    months_with_history = gl["month"].unique().sort()
    per_month = gl.group_by("month", "location_id").agg(pl.col("account").sort())
    assert all(accounts.to_list() == sorted(GL_ACCOUNTS) for accounts in per_month["account"])
    assert per_month.height == 3 * len(months_with_history)

    plan = read_text(folder, "budget")
    assert set(plan["line"]) == {*BUDGET_VOLUME_LINES, *GL_ACCOUNTS}
    assert plan["month"].max() == f"{END.year}-12"
    assert set(months_with_history) <= set(plan["month"])
    visits = plan.filter(pl.col("line") == "completed_visits")["amount"].cast(float)
    assert (visits > 0).all()


def test_locations_span_two_timezones_and_some_stamps_carry_offsets(small_practice):
    folder, _ = small_practice
    locations = read_text(folder, "locations")
    assert locations["timezone"].n_unique() == 2
    assert (
        validated(folder, "appointments")
        .good.select(pl.col("^.*_offset_min$").is_not_null().sum())
        .sum_horizontal()
        .item()
        > 0
    )
