"""Every validation rule of CONTRACTS.md: a violating row is rejected with file, line, reason.

Each case delivers a good row (line 2) and the violating row (line 3); the good row must
land and the bad one must be kept aside with the reason, never loaded.
"""

from __future__ import annotations

import polars as pl
import pytest

from pipelines.core.contracts import CONTRACTS, Kind, contract_for
from tests.landing.conftest import PATIENT, deliver, row

# (entity, changes to the valid row, column the reason is filed under, text in the reason)
CASES = [
    # types
    ("appointments", {"booked_at": "2026-01-02"}, "booked_at", "is a date without a time"),
    ("appointments", {"scheduled_start": "05/01/2026 8am"}, "scheduled_start", "not a timestamp"),
    ("appointments", {"checked_in_at": "2026-02-30 08:00"}, "checked_in_at", "not a timestamp"),
    ("appointments", {"roomed_at": "2026-01-05 08:02+15:00"}, "roomed_at", "beyond ±14:00"),
    ("appointments", {"scheduled_minutes": "20.5"}, "scheduled_minutes", "not a whole number"),
    ("appointments", {"scheduled_minutes": "thirty"}, "scheduled_minutes", "not a whole number"),
    ("charges", {"charge_amount": "$1,200.00"}, "charge_amount",
     "charge_amount: '$1,200.00' is not a plain decimal number (no currency symbols or "
     "thousands separators)"),
    ("charges", {"charge_amount": "1,200"}, "charge_amount", "not a plain decimal number"),
    ("transactions", {"amount": "inf"}, "amount", "not a plain decimal number"),
    ("timesheets", {"regular_hours": "nan"}, "regular_hours", "not a plain decimal number"),
    ("budget", {"amount": "1_000"}, "amount", "not a plain decimal number"),
    ("staff", {"fte": "full"}, "fte", "not a plain decimal number"),
    ("charges", {"service_date": "2026-01-05 10:00"}, "service_date", "not a date (YYYY-MM-DD)"),
    ("claims", {"submitted_date": "2026-13-01"}, "submitted_date", "not a date"),
    ("gl_expenses", {"month": "2026-1"}, "month", "not a month (YYYY-MM)"),
    ("budget", {"month": "2026-01-15"}, "month", "not a month"),
    # enums
    ("appointments", {"status": "maybe"}, "status", "'maybe' is not one of scheduled"),
    ("payers", {"financial_class": "private"}, "financial_class", "is not one of"),
    ("transactions", {"transaction_type": "payment"}, "transaction_type", "is not one of"),
    ("staff", {"role": "surgeon"}, "role", "is not one of"),
    # ranges
    ("charges", {"charge_amount": "-5"}, "charge_amount", "is negative"),
    ("transactions", {"amount": "-0.01"}, "amount", "is negative"),
    ("timesheets", {"gross_pay": "-1"}, "gross_pay", "is negative"),
    ("timesheets", {"benefits_cost": "-1"}, "benefits_cost", "is negative"),
    ("gl_expenses", {"amount": "-1"}, "amount", "is negative"),
    ("appointments", {"scheduled_minutes": "0"}, "scheduled_minutes", "must be greater than 0"),
    ("provider_slots", {"slot_minutes": "-15"}, "slot_minutes", "must be greater than 0"),
    ("charges", {"units": "0"}, "units", "must be greater than 0"),
    ("timesheets", {"regular_hours": "-1"}, "regular_hours", "must be at least 0"),
    ("timesheets", {"overtime_hours": "-0.5"}, "overtime_hours", "must be at least 0"),
    ("timesheets", {"pto_hours": "-8"}, "pto_hours", "must be at least 0"),
    ("staff", {"fte": "0"}, "fte", "must be greater than 0"),
    ("staff", {"fte": "1.5"}, "fte", "must be at most 1"),
    ("charges", {"cpt_code": "9921"}, "cpt_code", "'9921' is not 5 characters"),
    # rules across columns
    ("charges", {"posted_date": "2026-01-04"}, "posted_date", "posted_date is before service_date"),
    ("timesheets", {"pay_period_end": "2025-12-31"}, "pay_period_end",
     "pay_period_end is before pay_period_start"),
    ("appointments", {"status": "cancelled", "cancelled_at": ""}, "cancelled_at",
     "a cancelled appointment needs cancelled_at"),
    ("locations", {"timezone": "Mars/Olympus"}, "timezone",
     "timezone is not an IANA time zone name ('Mars/Olympus'"),
    # 1234567893 is valid; changing the check digit or any other digit breaks it
    ("providers", {"npi": "1234567890"}, "npi",
     "npi is not a valid National Provider Identifier (10 digits whose last is the Luhn "
     "check digit of 80840 and the first nine) ('1234567890')"),
    ("providers", {"npi": "1234567883"}, "npi", "not a valid National Provider Identifier"),
    ("providers", {"npi": "123456789"}, "npi", "not a valid National Provider Identifier"),
    ("providers", {"npi": "12345678 93"}, "npi", "not a valid National Provider Identifier"),
    # plausibility decided at landing (validate.py's docstring)
    ("charges", {"charge_amount": "1000000000000"}, "charge_amount", "is too large"),
    ("budget", {"amount": "-1000000000000"}, "amount", "is too large"),
    ("charges", {"units": "99999999999999999999"}, "units", "is too large"),
    ("claims", {"submitted_date": "1899-12-31"}, "submitted_date", "outside the plausible range"),
    ("staff", {"termination_date": "9999-12-31"}, "termination_date", "plausible range"),
    ("gl_expenses", {"month": "1900-01"}, "month", "outside the plausible range"),
    ("appointments", {"booked_at": "2206-01-02 09:00"}, "booked_at", "plausible range"),
    ("claims", {"submitted_date": "46027"}, "submitted_date", "looks like an Excel serial day"),
]  # fmt: skip

REQUIRED = [(c.entity, col.name) for c in CONTRACTS for col in c.columns if col.required]


def _land_one(inbox, land, entity, changes):
    deliver(inbox, entity, [row(entity), row(entity, **changes)])
    report = land()
    (result,) = report.files
    return result


def _rejected(home, entity, delivery_id):
    return pl.read_parquet(home.rejected_partition(entity, delivery_id) / "*.parquet")


@pytest.mark.parametrize(("entity", "changes", "column", "reason"), CASES)
def test_violating_row_is_rejected_with_reason(inbox, home, land, entity, changes, column, reason):
    result = _land_one(inbox, land, entity, changes)
    assert (result.status, result.rows_loaded, result.rows_rejected) == ("loaded", 1, 1)
    rejected = _rejected(home, entity, result.delivery_id)
    hit = rejected.filter(pl.col("column") == column)
    assert hit.height == 1, rejected
    assert hit["_source_file"][0] == f"{entity}.csv"
    assert hit["_line"][0] == 3
    assert reason in hit["reason"][0]
    raw = pl.read_parquet(home.raw_partition(entity, result.delivery_id) / "*.parquet")
    assert raw["_line"].to_list() == [2]


@pytest.mark.parametrize(("entity", "column"), REQUIRED)
def test_missing_required_value_is_rejected(inbox, home, land, entity, column):
    changes = {column: "  "}  # blanks are trimmed, so this is missing too
    if (entity, column) == ("appointments", "status"):
        changes["cancelled_at"] = ""
    result = _land_one(inbox, land, entity, changes)
    assert result.rows_rejected == 1
    hit = _rejected(home, entity, result.delivery_id).filter(pl.col("column") == column)
    assert hit["reason"].to_list() == [f"{column}: required value is missing"]
    assert hit["_line"].to_list() == [3]


def test_every_declared_rule_has_a_case():
    """A rule added to contracts.py must get a case here (the list is the spec's checklist)."""
    covered = {(e, col) for e, _, col, _ in CASES}
    for contract in CONTRACTS:
        for col in contract.columns:
            if col.min_value is not None or col.max_value is not None or col.length:
                assert (contract.entity, col.name) in covered, (contract.entity, col.name)
            if col.kind is Kind.ENUM:
                assert (contract.entity, col.name) in covered, (contract.entity, col.name)
        for rule in contract.row_rules:
            assert any(rule.message in reason for *_, reason in CASES), rule.name
    parsed_kinds = {contract_for(e).column(col).kind for e, _, col, _ in CASES}
    assert set(Kind) - parsed_kinds <= {Kind.STR}


def test_one_record_per_broken_rule_but_the_row_counts_once(inbox, home, land):
    result = _land_one(
        inbox, land, "charges", {"units": "0", "charge_amount": "-1", "cpt_code": "1"}
    )
    assert (result.rows_received, result.rows_loaded, result.rows_rejected) == (2, 1, 1)
    rejected = _rejected(home, "charges", result.delivery_id)
    assert sorted(rejected["column"]) == ["charge_amount", "cpt_code", "units"]
    assert set(rejected["_line"]) == {3}


def test_reasons_never_quote_personal_data(inbox, home, land):
    result = _land_one(inbox, land, "appointments", {"status": "nope", "scheduled_minutes": "x"})
    rejected = _rejected(home, "appointments", result.delivery_id)
    assert not rejected.filter(pl.col("reason").str.contains(PATIENT)).height
    assert PATIENT not in rejected["_raw"][0]
    assert '"patient_key":"' in rejected["_raw"][0]


def test_enums_and_codes_are_normalised_not_rejected(inbox, home, land):
    deliver(inbox, "charges", [row("charges", cpt_code=" g0438 ", modifier=" 25 ")])
    deliver(inbox, "appointments", [row("appointments", status="  No_Show ")])
    report = land()
    assert [f.rows_rejected for f in report.files] == [0, 0]
    charges = pl.read_parquet(home.raw / "charges" / "delivery=*" / "*.parquet")
    assert charges.filter(pl.col("_delivery_id") != "000000")["cpt_code"].to_list() == ["G0438"]
    appointments = pl.read_parquet(home.raw / "appointments" / "delivery=*" / "*.parquet")
    assert appointments["status"].to_list() == ["no_show"]


def test_several_rejected_rows_with_different_rules_in_one_file(inbox, home, land):
    """Regression: reasons are built on the filtered bad rows (the sample corrections)."""
    rows = [
        row("timesheets"),
        row("timesheets", pay_period_end="2025-12-01"),
        row("timesheets", employee_id="EMP2", overtime_hours="-2.00"),
        row("timesheets", employee_id="EMP3"),
        row("timesheets", employee_id="EMP4", regular_hours="eight"),
    ]
    deliver(inbox, "timesheets", rows)
    (result,) = land().files
    assert (result.rows_loaded, result.rows_rejected) == (2, 3)
    rejected = _rejected(home, "timesheets", result.delivery_id).sort("_line")
    assert rejected.select("_line", "column").rows() == [
        (3, "pay_period_end"),
        (4, "overtime_hours"),
        (6, "regular_hours"),
    ]
    assert rejected["reason"][1] == "overtime_hours: '-2.00' must be at least 0"
