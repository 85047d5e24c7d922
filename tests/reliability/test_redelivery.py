"""Files delivered again, corrected, out of order, and full snapshots that drop keys.

Each scenario states its end state in the lake (every version is history) and in dbt's
staging (the newest version of each key; snapshot deletions applied). The scenarios use
different entities, so they share one home, two landing scans and one dbt run.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import polars as pl
import pytest

from pipelines.core.config import Config
from pipelines.land import land_inbox, ledger
from pipelines.model.build import _run_dbt, dbt_env, home_target_dir
from tests.landing.conftest import TEST_KEY, deliver, row

pytestmark = pytest.mark.e2e

CONFIG = Config.model_validate({"sources": {"scheduling": {"snapshot": ["provider_slots"]}}})


def _slot(start: str) -> dict[str, str]:
    return row("provider_slots", slot_start=start)


def _lake(home, entity: str) -> pl.DataFrame:
    frame = pl.read_parquet(home.raw / entity / "*" / "*.parquet")
    return frame.filter(pl.col("_delivery_id") != "000000").sort("_delivery_id", "_line")


def _staging(home, model: str, order: str) -> list[dict]:
    with duckdb.connect(str(home.warehouse), read_only=True) as con:
        return con.sql(f"select * from staging.{model} order by {order}").pl().to_dicts()


def test_redelivered_files_end_in_the_state_the_contract_gives(tmp_path):
    from pipelines.core.home import Home

    home = Home(tmp_path / "home")
    first, second = tmp_path / "scan1", tmp_path / "scan2"

    # Scan 1
    payers = deliver(first, "payers", [row("payers")])
    deliver(first, "claims", [row("claims"), row("claims", claim_id="CL2")], "claims_01.csv")
    deliver(first, "charges", [row("charges", charge_amount="200")], "charges_2026-W47.csv")
    # Two weeks in one scan apply in name order, whatever order they were written in.
    deliver(first, "appointments", [row("appointments", scheduled_minutes="45")],
            "appointments_2026-W47.csv")  # fmt: skip
    deliver(first, "appointments", [row("appointments", scheduled_minutes="15")],
            "appointments_2026-W46.csv")  # fmt: skip
    slots = ["2026-01-05 08:00", "2026-01-05 08:20", "2026-01-05 08:40"]
    deliver(first, "provider_slots", [_slot(s) for s in slots], "provider_slots_01.csv")
    deliver(first, "gl_expenses", [row("gl_expenses"), row("gl_expenses", account="utilities")])
    land_inbox(first, home, CONFIG, pseudonym_key=TEST_KEY)

    # Scan 2
    again = second / "billing" / "payers_resent.csv"
    again.parent.mkdir(parents=True)
    again.write_bytes(payers.read_bytes())
    deliver(second, "claims", [row("claims", submitted_date="2026-01-09")], "claims_02.csv")
    # An older export that reaches the inbox late: received last, so it applies last.
    deliver(second, "charges", [row("charges", charge_amount="100")], "charges_2026-W46.csv")
    deliver(second, "provider_slots", [_slot(s) for s in slots[:2]], "provider_slots_02.csv")
    deliver(second, "gl_expenses", [row("gl_expenses", amount="1100")], "gl_expenses_02.csv")
    report = land_inbox(second, home, CONFIG, pseudonym_key=TEST_KEY)

    # The same bytes again: a no-op, recorded nowhere but in the report.
    (resent,) = [f for f in report.files if f.file_name == "payers_resent.csv"]
    assert (resent.status, resent.delivery_id) == ("duplicate", None)
    assert _lake(home, "payers").height == 1
    assert "payers_resent.csv" not in ledger.ledger(home)["file_name"].to_list()

    # Lake: every version is kept, in the order deliveries were applied.
    assert _lake(home, "claims").select("claim_id", "submitted_date").rows() == [
        ("CL1", dt.date(2026, 1, 7)),
        ("CL2", dt.date(2026, 1, 7)),
        ("CL1", dt.date(2026, 1, 9)),
    ]
    assert _lake(home, "charges")["charge_amount"].to_list() == [200.0, 100.0]
    assert _lake(home, "charges")["_source_file"].to_list() == [
        "charges_2026-W47.csv",
        "charges_2026-W46.csv",
    ]
    assert _lake(home, "appointments")["_source_file"].to_list() == [
        "appointments_2026-W46.csv",
        "appointments_2026-W47.csv",
    ]
    assert _lake(home, "provider_slots").height == 5  # a snapshot never erases history
    assert _lake(home, "provider_slots")["_snapshot"].all()

    _run_dbt(["run", "--select", "staging"], env=dbt_env(home), target_dir=home_target_dir(home))

    assert [r["payer_name"] for r in _staging(home, "stg_billing__payers", "payer_id")] == [
        "Acme Health"
    ]
    claims = _staging(home, "stg_billing__claims", "claim_id")
    assert [(c["claim_id"], c["submitted_date"]) for c in claims] == [
        ("CL1", dt.date(2026, 1, 9)),  # corrected
        ("CL2", dt.date(2026, 1, 7)),  # untouched by the correction
    ]
    (charge,) = _staging(home, "stg_billing__charges", "charge_id")
    assert (charge["charge_amount"], charge["source_file"]) == (100.0, "charges_2026-W46.csv")
    (appointment,) = _staging(home, "stg_scheduling__appointments", "appointment_id")
    assert appointment["scheduled_minutes"] == 45  # W47 applied after W46
    slots_now = _staging(home, "stg_scheduling__provider_slots", "slot_start")
    assert [s["slot_start"] for s in slots_now] == [
        dt.datetime(2026, 1, 5, 8, 0),
        dt.datetime(2026, 1, 5, 8, 20),
    ]  # 08:40 is missing from the newest snapshot: deleted
    expenses = _staging(home, "stg_finance__gl_expenses", "account")
    # Incremental: a key missing from the newer delivery stays, the repeated one updates.
    assert [(e["account"], e["amount"]) for e in expenses] == [
        ("rent", 1100.0),
        ("utilities", 1000.0),
    ]
