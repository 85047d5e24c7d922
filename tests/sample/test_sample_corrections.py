"""The corrections delivery: same keys with new values, and one broken row per rule."""

from __future__ import annotations

import polars as pl

from pipelines.core.contracts import contract_for
from pipelines.sample import generate_corrections
from pipelines.sample.writer import inbox_path
from tests.sample.conftest import judged_row_by_row, read_text

# (entity, column) of each kind of violation in CONTRACTS.md "Validation at landing".
EXPECTED_VIOLATIONS = {
    ("appointments", "cancelled_at"),  # cancelled without cancelled_at
    ("appointments", "status"),  # enum value outside its list
    ("appointments", "scheduled_start"),  # a date-only value in a timestamp column
    ("charges", "cpt_code"),  # not 5 characters
    ("charges", "posted_date"),  # posted before the service
    ("charges", "charge_amount"),  # `$` and a thousands separator in money
    ("charges", "units"),  # units <= 0
    ("transactions", "amount"),  # money < 0
    ("transactions", "claim_id"),  # a required value missing
    ("staff", "fte"),  # fte outside (0, 1]
    ("timesheets", "pay_period_end"),  # a pay period that ends before it starts
    ("timesheets", "overtime_hours"),  # hours < 0
    ("timesheets", "regular_hours"),  # text in a number
}


def test_corrections_are_reproducible(small_practice, small_corrections, tmp_path):
    folder, counts = small_corrections
    again = generate_corrections(small_practice[0], tmp_path)
    assert again == counts
    for entity in counts:
        assert inbox_path(tmp_path, entity).read_bytes() == inbox_path(folder, entity).read_bytes()


def test_one_broken_row_per_kind_of_violation(small_corrections):
    folder, counts = small_corrections
    found = set()
    for entity in counts:
        errors, _ = judged_row_by_row(folder, entity)
        # Each broken row breaks exactly one rule, so each rule is tested on its own.
        assert not errors["_line"].is_duplicated().any(), errors.to_dicts()
        found |= {(entity, column) for column in errors["column"]}
    assert found == EXPECTED_VIOLATIONS


def test_good_rows_correct_existing_keys(small_practice, small_corrections):
    history_dir = small_practice[0]
    folder, counts = small_corrections
    for entity in counts:
        key = list(contract_for(entity).key)
        good = read_text(folder, entity).filter(~judged_row_by_row(folder, entity)[1])
        history = read_text(history_dir, entity)
        shared = good.join(history, on=key, how="semi")
        assert shared.height > 0, entity
        # A correction changes something; the one unchanged row is the earlier version of
        # a key corrected later in the same file.
        changed = good.join(history, on=list(good.columns), how="anti")
        assert changed.height >= good.height - 1, entity


def test_appointment_corrections_cover_the_usual_late_changes(small_practice, small_corrections):
    history = read_text(small_practice[0], "appointments")
    corrections = read_text(small_corrections[0], "appointments")
    before = corrections.join(history, on="appointment_id", suffix="_before")
    filled = before.filter(
        pl.col("checked_out_at").is_not_null() & pl.col("checked_out_at_before").is_null()
    )
    assert filled.height > 0, "a late-arriving checked_out_at"
    moved = before.filter(pl.col("status") != pl.col("status_before"))
    assert {"cancelled", "no_show"} <= set(moved["status"])
    assert corrections["appointment_id"].is_duplicated().sum() == 2
    assert (
        read_text(small_corrections[0], "charges")
        .join(read_text(small_practice[0], "charges"), on="charge_id", suffix="_before")
        .filter(pl.col("charge_amount") != pl.col("charge_amount_before"))
        .height
        > 0
    )
