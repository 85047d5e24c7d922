"""Each mapping feature landed through the real landing library, on tiny vendor files."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from pipelines.core.config import Config
from pipelines.core.home import Home
from pipelines.land import land_inbox, routes
from pipelines.land.ledger import ledger
from tests.landing.conftest import PATIENT, TEST_KEY, csv_text, row


def _config(source: str, *routes_: dict, **extra) -> Config:
    return Config.model_validate(
        {"landing": {"settle_seconds": 0}, "sources": {source: {"routes": list(routes_), **extra}}}
    )


def _land(inbox: Path, home: Home, config: Config):
    return land_inbox(inbox, home, config, pseudonym_key=TEST_KEY)


def _raw(home: Home, entity: str) -> pl.DataFrame:
    frame = pl.read_parquet(home.raw / entity / "*" / "*.parquet")
    return frame.filter(pl.col("_delivery_id") != "000000").sort("_delivery_id", "_line")


def _rejected(home: Home, entity: str) -> pl.DataFrame:
    frame = pl.read_parquet(home.rejected / entity / "*" / "*.parquet")
    return frame.filter(pl.col("_delivery_id") != "000000").sort("_line")


APPT_ROUTE = {
    "name": "report",
    "files": "ApptReport_*.csv",
    "entity": "appointments",
    "columns": {
        "appointment_id": "Appt ID",
        "patient_id": "Patient",
        "provider_id": {"constant": "DR1"},
        "location_id": {"constant": "L1"},
        "appointment_type": {"column": "Type", "values": {"New Patient": "new_patient",
                                                          "Follow Up": "established"}},
        "booked_at": {"column": "Booked", "format": {"patterns": ["%m/%d/%Y"]}},
        "scheduled_start": {"column": "Start", "format": {"patterns": ["%m/%d/%y %I:%M %p"]}},
        "scheduled_minutes": {
            "expr": "date_diff('minute', try_strptime(Start, '%m/%d/%y %I:%M %p'), "
            "try_strptime(\"End\", '%m/%d/%y %I:%M %p'))"
        },
        "status": {"column": "No Show", "values": {"Yes": "no_show", "No": "completed"}},
    },
}  # fmt: skip


def _appt(appt: str, kind="Follow Up", no_show="No", start="4/29/16 8:30 AM", end="4/29/16 9:00 AM",
          patient=PATIENT, booked="04/15/2016") -> dict[str, str]:  # fmt: skip
    return {"Appt ID": appt, "Patient": patient, "Type": kind, "Booked": booked,
            "Start": start, "End": end, "No Show": no_show, "Room": "4"}  # fmt: skip


def test_vendor_file_at_the_inbox_top_level_lands_by_route(inbox, home):
    rows = [_appt("A1"), _appt("A2", kind=" new   PATIENT ", no_show="YES", end="4/29/16 9:15 AM")]
    (inbox / "ApptReport_20160429.csv").write_text(csv_text(rows))
    (result,) = _land(inbox, home, _config("scheduling", APPT_ROUTE)).files
    assert (result.status, result.entity, result.route, result.source) == (
        "loaded", "appointments", "report", "scheduling"
    )  # fmt: skip
    got = _raw(home, "appointments").to_dicts()
    assert [g["appointment_type"] for g in got] == ["established", "new_patient"]
    assert [g["status"] for g in got] == ["completed", "no_show"]
    assert [g["scheduled_minutes"] for g in got] == [30, 45]
    assert str(got[0]["scheduled_start"]) == "2016-04-29 08:30:00"
    assert str(got[0]["booked_at"]) == "2016-04-15 00:00:00"
    assert (got[0]["provider_id"], got[0]["location_id"]) == ("DR1", "L1")
    assert json.loads(got[0]["_extra"]) == {"room": "4"}


def test_unmapped_values_are_rejected_naming_the_column_never_a_personal_value(inbox, home):
    route = {**APPT_ROUTE, "columns": {**APPT_ROUTE["columns"],
             "patient_id": {"column": "Patient", "values": {"P1": "X1"}}}}  # fmt: skip
    rows = [_appt("A1", patient="P1"), _appt("A2", kind="Consult", patient="P1"),
            _appt("A3", patient=PATIENT),
            _appt("A4", start="29.04.2016", patient="P1")]  # fmt: skip
    (inbox / "ApptReport_1.csv").write_text(csv_text(rows))
    (result,) = _land(inbox, home, _config("scheduling", route)).files
    assert (result.rows_received, result.rows_loaded, result.rows_rejected) == (4, 1, 3)
    reasons = dict(_rejected(home, "appointments").select("column", "reason").iter_rows())
    assert reasons["appointment_type"].startswith("appointment_type: 'Consult' (column Type) is")
    assert reasons["patient_id"] == (
        "patient_id: the value (column Patient) is not in the column's value map (P1)"
    )
    assert "matches none of the patterns %m/%d/%y %I:%M %p" in reasons["scheduled_start"]
    assert PATIENT not in json.dumps(_rejected(home, "appointments").to_dicts())


def test_where_filters_rows_and_counts_them(inbox, home):
    route = {**APPT_ROUTE, "where": "upper(\"Type\") <> 'BLOCK'"}
    rows = [_appt("A1"), _appt("B1", kind="Block"), _appt("B2", kind="block")]
    (inbox / "ApptReport_1.csv").write_text(csv_text(rows))
    (result,) = _land(inbox, home, _config("scheduling", route)).files
    assert (result.rows_received, result.rows_loaded, result.rows_filtered) == (3, 1, 2)
    (entry,) = ledger(home).filter(pl.col("status") == "loaded").iter_rows(named=True)
    assert (entry["rows_received"], entry["rows_filtered"], entry["route"]) == (3, 2, "report")


def test_per_route_snapshot(inbox, home):
    route = {**APPT_ROUTE, "snapshot": True}
    (inbox / "ApptReport_1.csv").write_text(csv_text([_appt("A1")]))
    _land(inbox, home, _config("scheduling", route))
    assert _raw(home, "appointments")["_snapshot"].to_list() == [True]
    assert ledger(home).filter(pl.col("status") == "loaded")["mode"].to_list() == ["snapshot"]


LEDGER_EXPORT = {"Entry": "", "Claim": "CL1", "Posted": "", "Type": "", "Amount": ""}


def _line(entry, kind, amount, posted="01/20/2026"):
    return {**LEDGER_EXPORT, "Entry": entry, "Type": kind, "Amount": amount, "Posted": posted}


def test_several_routes_read_one_file_with_sign_conventions(inbox, home):
    posted = {"column": "Posted", "format": {"patterns": ["%m/%d/%Y"]}}
    money = {"currency": True, "thousands": ",", "parentheses": True}
    types = {"INS PMT": "payer_payment", "ADJ": "contractual_adjustment"}
    payer = {
        "name": "payer", "files": "Ledger*.csv", "entity": "transactions",
        "where": "\"Type\" IN ('INS PMT', 'ADJ')",
        "columns": {"transaction_id": "Entry", "claim_id": "Claim", "posted_date": posted,
                    "transaction_type": {"column": "Type", "values": types},
                    "amount": {"column": "Amount", "format": {**money, "absolute": True}}},
    }  # fmt: skip
    patient = {
        "name": "patient", "files": "Ledger*.csv", "entity": "transactions",
        "where": "\"Type\" = 'PAT'",
        "columns": {"transaction_id": "Entry", "claim_id": "Claim", "posted_date": posted,
                    "transaction_type": {"sign_of": "Amount", "format": money,
                                         "values": {"negative": "patient_payment",
                                                    "positive": "refund"}},
                    "amount": {"column": "Amount", "format": {**money, "absolute": True}}},
    }  # fmt: skip
    rows = [_line("T1", "INS PMT", "($1,000.00)"), _line("T2", "ADJ", "(20.00)"),
            _line("T3", "PAT", "(25.00)"), _line("T4", "PAT", "$10.00"),
            _line("T5", "TRANSFER", "(5.00)"), _line("T6", "PAT", "n/a")]  # fmt: skip
    folder = inbox / "billing" / "2026-W04"
    folder.mkdir(parents=True)
    (folder / "Ledger_2026-01-20.csv").write_text(csv_text(rows))
    config = _config("billing", payer, patient)
    report = _land(inbox, home, config)
    counts = {f.route: (f.rows_loaded, f.rows_rejected, f.rows_filtered) for f in report.files}
    assert counts == {"payer": (2, 0, 4), "patient": (2, 1, 3)}
    got = {r["transaction_id"]: (r["transaction_type"], r["amount"])
           for r in _raw(home, "transactions").iter_rows(named=True)}  # fmt: skip
    assert got == {"T1": ("payer_payment", 1000.0), "T2": ("contractual_adjustment", 20.0),
                   "T3": ("patient_payment", 25.0), "T4": ("refund", 10.0)}  # fmt: skip
    reasons = _rejected(home, "transactions")["reason"].to_list()
    assert any("is not a number: its sign picks nothing" in r for r in reasons)
    # The same bytes again: both routes see they were landed.
    again = _land(inbox, home, config)
    assert [f.status for f in again.files] == ["duplicate", "duplicate"]


def test_decimal_comma_month_pattern_and_route_format(inbox, home):
    route = {"files": "Konten*.csv", "entity": "gl_expenses", "format": {"delimiter": ";"},
             "columns": {"month": {"column": "Monat", "format": {"patterns": ["%m.%Y"]}},
                         "location_id": "Standort", "account": {"constant": "rent"},
                         "amount": {"column": "Betrag", "format": {"decimal": ",", "thousands": ".",
                                                                   "currency": True}}}}  # fmt: skip
    folder = inbox / "finance"
    folder.mkdir()
    (folder / "Konten_2026-01.csv").write_text("Monat;Standort;Betrag\n01.2026;L1;1.234,56 €\n")
    (result,) = _land(inbox, home, _config("finance", route)).files
    assert result.status == "loaded", result.error
    got = _raw(home, "gl_expenses").row(0, named=True)
    assert (str(got["month"]), got["amount"]) == ("2026-01-01", 1234.56)


def test_entity_by_name_wherever_the_file_arrives_in_lexical_order(inbox, home):
    for folder in ("reference", "billing/2026-W02", "billing/2026-W01", ""):
        (inbox / folder).mkdir(parents=True, exist_ok=True)
    (inbox / "reference" / "payers.csv").write_text(csv_text([row("payers", payer_id="P0")]))
    (inbox / "billing/2026-W02/claims.csv").write_text(csv_text([row("claims", payer_id="W2")]))
    (inbox / "billing/2026-W01/claims.csv").write_text(csv_text([row("claims", payer_id="W1")]))
    (inbox / "claims_2026-03.csv").write_text(csv_text([row("claims", payer_id="TOP")]))
    report = _land(inbox, home, Config(landing={"settle_seconds": 0}))
    assert [(f.label, f.source, f.status) for f in report.files] == [
        ("billing/2026-W01/claims.csv", "billing", "loaded"),
        ("billing/2026-W02/claims.csv", "billing", "loaded"),
        ("claims_2026-03.csv", "billing", "loaded"),
        ("reference/payers.csv", "reference", "loaded"),
    ]
    # Later deliveries win: the top-level file applies last of the three claims files.
    assert _raw(home, "claims")["payer_id"].to_list() == ["W1", "W2", "TOP"]
    names = ledger(home).filter(pl.col("entity") == "claims")["file_name"].to_list()
    assert names == ["2026-W01/claims.csv", "2026-W02/claims.csv", "claims_2026-03.csv"]


def test_a_reader_of_several_entities_plugs_in_with_one_call(inbox, home, monkeypatch):
    def read(path, entity, fmt, scratch, batch_rows):
        rows = [row(entity, claim_id="CLX")]
        frame = pl.DataFrame(rows).with_columns(
            pl.lit(2, pl.Int64).alias("_line"), pl.lit(None, pl.String).alias("_extra"),
            pl.lit(None, pl.String).alias("_problem"))  # fmt: skip
        yield frame

    monkeypatch.setattr(routes, "READERS", {})
    routes.register_reader(".835", ("claims", "transactions"), read)
    (inbox / "billing").mkdir()
    (inbox / "billing" / "remit_0001.835").write_text("ISA*00*...~")
    report = _land(inbox, home, Config(landing={"settle_seconds": 0}))
    assert [(f.entity, f.status) for f in report.files] == [
        ("claims", "loaded"), ("transactions", "loaded")
    ]  # fmt: skip
    assert _raw(home, "transactions")["claim_id"].to_list() == ["CLX"]
