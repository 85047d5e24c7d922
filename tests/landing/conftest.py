"""Tiny deliveries built from the contracts: one valid row per entity, then mutated."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from pipelines.core.config import Config
from pipelines.core.contracts import BY_ENTITY, contract_for
from pipelines.core.home import Home
from pipelines.land import LandingReport, land_inbox

TEST_KEY = b"test-pseudonym-key-0123456789abcdef"
# Distinctive personal data, so a scan of the lake can prove it never got there.
PATIENT = "PAT-SECRET-0042"
FULL_NAME = "Zebulon Secretname"

VALID: dict[str, dict[str, str]] = {
    "locations": {"location_id": "L1", "location_name": "Main St", "timezone": "America/Chicago"},
    "providers": {
        "provider_id": "P1",
        "display_name": "Dr. A. Rivera",
        "npi": "1234567893",  # CMS's worked example of the check digit
        "specialty": "family_medicine",
        "location_id": "L1",
    },
    "appointments": {
        "appointment_id": "A1",
        "patient_id": PATIENT,
        "provider_id": "DR1",
        "location_id": "L1",
        "appointment_type": "established",
        "booked_at": "2026-01-02 09:00",
        "scheduled_start": "2026-01-05 08:00:00",
        "scheduled_minutes": "30",
        "status": "completed",
        "cancelled_at": "",
        "checked_in_at": "2026-01-05 07:55",
        "roomed_at": "2026-01-05 08:02",
        "provider_start_at": "2026-01-05 08:10",
        "checked_out_at": "2026-01-05 08:40",
        "encounter_id": "E1",
    },
    "provider_slots": {
        "provider_id": "DR1",
        "location_id": "L1",
        "slot_start": "2026-01-05 08:00",
        "slot_minutes": "20",
    },
    "payers": {"payer_id": "PY1", "payer_name": "Acme Health", "financial_class": "commercial"},
    "charges": {
        "charge_id": "C1",
        "claim_id": "CL1",
        "encounter_id": "E1",
        "patient_id": PATIENT,
        "rendering_provider_id": "DR1",
        "location_id": "L1",
        "payer_id": "PY1",
        "service_date": "2026-01-05",
        "posted_date": "2026-01-06",
        "cpt_code": "99213",
        "modifier": "",
        "units": "1",
        "charge_amount": "120.00",
    },
    "claims": {"claim_id": "CL1", "payer_id": "PY1", "submitted_date": "2026-01-07"},
    "transactions": {
        "transaction_id": "T1",
        "claim_id": "CL1",
        "charge_id": "C1",
        "posted_date": "2026-01-20",
        "transaction_type": "payer_payment",
        "amount": "80.00",
        "reason_code": "CO-45",
    },
    "staff": {
        "employee_id": "EMP1",
        "full_name": FULL_NAME,
        "role": "physician",
        "provider_id": "DR1",
        "location_id": "L1",
        "fte": "1.0",
        "hire_date": "2020-01-01",
        "termination_date": "",
    },
    "timesheets": {
        "employee_id": "EMP1",
        "pay_period_start": "2026-01-01",
        "pay_period_end": "2026-01-14",
        "regular_hours": "80",
        "overtime_hours": "2.5",
        "pto_hours": "0",
        "gross_pay": "5000.00",
        "benefits_cost": "1000",
    },
    "gl_expenses": {"month": "2026-01", "location_id": "L1", "account": "rent", "amount": "1000"},
    "budget": {
        "month": "2026-01",
        "location_id": "L1",
        "line": "completed_visits",
        "amount": "500",
    },
}
assert set(VALID) == set(BY_ENTITY), "every entity needs a valid row"


def row(entity: str, **changes: str) -> dict[str, str]:
    return {**VALID[entity], **changes}


def csv_text(rows: list[dict[str, str]], delimiter: str = ",") -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), delimiter=delimiter, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def deliver(inbox: Path, entity: str, rows: list[dict[str, str]], name: str | None = None) -> Path:
    """Write rows as `inbox/<source>/<name or entity.csv>`."""
    folder = inbox / contract_for(entity).source
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (name or f"{entity}.csv")
    path.write_text(csv_text(rows), encoding="utf-8")
    return path


@pytest.fixture
def home(tmp_path: Path) -> Home:
    return Home(tmp_path / "home")


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    path = tmp_path / "inbox"
    path.mkdir()
    return path


@pytest.fixture
def land(inbox: Path, home: Home):
    """Land the inbox with the test key; `config` may be passed."""

    def _land(config: Config | None = None) -> LandingReport:
        config = config or Config(landing={"settle_seconds": 0})
        return land_inbox(inbox, home, config, pseudonym_key=TEST_KEY)

    return _land
