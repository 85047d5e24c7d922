"""Landing end to end on tiny deliveries: types, history, idempotence, failures, formats."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import threading
from pathlib import Path

import polars as pl
import pytest
import xlsxwriter

from pipelines.core.config import Config
from pipelines.core.contracts import CONTRACTS
from pipelines.core.home import Home, raw_schema
from pipelines.core.secrets import KEY_ENV
from pipelines.land import land as land_mod
from pipelines.land import land_entity, land_inbox, ledger
from pipelines.land.pseudonymise import PseudonymKeyError, demo_key, ensure_demo_key, resolve_key
from pipelines.land.read import Delivered
from tests.landing.conftest import FULL_NAME, PATIENT, TEST_KEY, csv_text, deliver, row


def _raw(home: Home, entity: str) -> pl.DataFrame:
    frame = pl.read_parquet(home.raw / entity / "*" / "*.parquet")
    return frame.filter(pl.col("_delivery_id") != "000000").sort("_delivery_id", "_line")


def test_clean_files_load_with_contract_types(inbox, home, land):
    for contract in CONTRACTS:
        deliver(inbox, contract.entity, [row(contract.entity)])
    report = land()
    assert not report.failed
    assert report.totals["rows_loaded"] == len(CONTRACTS)
    for contract in CONTRACTS:
        frame = _raw(home, contract.entity)
        assert dict(frame.schema) == raw_schema(contract), contract.entity
        assert frame.height == 1
    appointment = _raw(home, "appointments").row(0, named=True)
    assert appointment["scheduled_start"] == dt.datetime(2026, 1, 5, 8, 0)
    assert appointment["scheduled_minutes"] == 30
    assert appointment["scheduled_start_offset_min"] is None
    assert len(appointment["patient_key"]) == 64
    assert appointment["_source_file"] == "appointments.csv"
    assert appointment["_line"] == 2
    assert appointment["_snapshot"] is False
    assert _raw(home, "gl_expenses")["month"].to_list() == [dt.date(2026, 1, 1)]
    assert _raw(home, "staff")["fte"].to_list() == [1.0]
    assert "full_name" not in _raw(home, "staff").columns


@pytest.mark.parametrize(
    ("written", "wall", "offset"),
    [
        ("2026-01-05T08:00:00Z", dt.datetime(2026, 1, 5, 8, 0), 0),
        ("2026-01-05 08:00-05:00", dt.datetime(2026, 1, 5, 8, 0), -300),
        ("2026-01-05 08:00:00.25+0530", dt.datetime(2026, 1, 5, 8, 0, 0, 250000), 330),
        ("2026-01-05T08:00-06", dt.datetime(2026, 1, 5, 8, 0), -360),
        ("2026-01-05 08:00:59", dt.datetime(2026, 1, 5, 8, 0, 59), None),
    ],
)
def test_timestamp_keeps_wall_clock_and_offset(inbox, home, land, written, wall, offset):
    deliver(inbox, "appointments", [row("appointments", scheduled_start=written)])
    land()
    got = _raw(home, "appointments").row(0, named=True)
    assert (got["scheduled_start"], got["scheduled_start_offset_min"]) == (wall, offset)


def test_same_bytes_twice_is_a_no_op(inbox, home, land):
    path = deliver(inbox, "payers", [row("payers")])
    first = land()
    copy = path.with_name("payers_again.csv")
    copy.write_bytes(path.read_bytes())
    second = land()
    assert first.files[0].status == "loaded"
    assert [f.status for f in second.files] == ["duplicate", "duplicate"]
    assert all(f.delivery_id is None for f in second.files)
    assert ledger.ledger(home).filter(pl.col("entity").is_not_null()).height == 1
    assert _raw(home, "payers").height == 1


def test_corrected_delivery_gets_a_higher_id_and_history_is_kept(inbox, home, land):
    deliver(inbox, "payers", [row("payers")], name="payers_2026-01-01.csv")
    deliver(
        inbox, "payers", [row("payers", payer_name="Acme Corrected")], name="payers_2026-01-08.csv"
    )
    report = land()
    assert [f.delivery_id for f in report.files] == ["000001", "000002"]
    history = _raw(home, "payers")
    assert history["payer_name"].to_list() == ["Acme Health", "Acme Corrected"]
    assert history["_delivery_id"].to_list() == ["000001", "000002"]


def test_repeated_key_within_a_file_is_counted_and_both_lines_load(inbox, home, land):
    deliver(inbox, "payers", [row("payers"), row("payers", payer_name="Later")])
    (result,) = land().files
    assert (result.rows_loaded, result.rows_duplicate_key) == (2, 1)
    assert result.quality["warnings"] == 1 and result.quality["success"]


def test_received_is_loaded_plus_rejected_for_every_delivery(inbox, home, land):
    deliver(
        inbox, "charges", [row("charges"), row("charges", units="x"), row("charges", units="2")]
    )
    deliver(inbox, "claims", [row("claims", submitted_date="")])
    land()
    entries = ledger.ledger(home).filter(pl.col("status") == "loaded")
    assert entries.height == 2
    assert (entries["rows_received"] == entries["rows_loaded"] + entries["rows_rejected"]).all()
    assert entries["rows_rejected"].to_list() == [1, 1]


def test_ledger_write_refuses_counts_that_do_not_add_up(home):
    with pytest.raises(AssertionError, match="rows received"):
        ledger.write_entry(
            home,
            {"delivery_id": "000009", "rows_received": 3, "rows_loaded": 1, "rows_rejected": 1},
        )


def test_file_level_failures_give_one_error_and_others_still_land(inbox, home, land):
    deliver(inbox, "payers", [row("payers")])
    (inbox / "billing" / "invoices.csv").write_text("a,b\n1,2\n")
    bad_header = {k: v for k, v in row("claims").items() if k != "payer_id"}
    deliver(inbox, "claims", [bad_header])
    (inbox / "billing" / "charges.csv").write_bytes(
        csv_text([row("charges")]).encode() + b"C2,\xff\xfe\n"
    )
    (inbox / "billing" / "transactions.csv").write_text(",".join(row("transactions")) + "\n")
    (inbox / "reference").mkdir()
    (inbox / "reference" / "locations.csv").write_bytes(b"")
    (inbox / "reference" / "payers_misplaced.csv").write_text(
        csv_text([row("payers", payer_id="P2")])
    )
    report = land()
    by_name = {f.file_name: f for f in report.files}
    assert by_name["payers.csv"].status == "loaded"
    # CONTRACTS.md: the entity is taken from the name wherever the file arrives.
    assert by_name["payers_misplaced.csv"].status == "loaded"
    expected = {
        "invoices.csv": "unknown entity",
        "claims.csv": "missing required column(s): payer_id",
        "charges.csv": "not valid UTF-8",
        "transactions.csv": "no data rows",
        "locations.csv": "is empty",
    }
    for name, problem in expected.items():
        result = by_name[name]
        assert result.status == "failed", name
        assert result.error.count(name) == 1 and problem in result.error, result.error
    entries = ledger.ledger(home).filter(pl.col("status") == "failed")
    assert sorted(entries["file_name"]) == sorted(expected)
    assert (entries["rows_received"] == 0).all()
    assert sorted(p.name for p in (home.raw / "charges").iterdir()) == ["delivery=000000"]


def test_file_without_header_does_not_echo_its_first_line(inbox, land):
    folder = inbox / "scheduling"
    folder.mkdir()
    (folder / "appointments.csv").write_text(",".join(row("appointments").values()) + "\n")
    (result,) = land().files
    assert result.status == "failed" and "header row" in result.error
    assert PATIENT not in result.error


def test_vendor_mapping_case_semicolon_latin1_and_gzip(inbox, home, land):
    config = Config.model_validate(
        {
            "sources": {
                "hr": {
                    "format": {"delimiter": ";", "encoding": "latin-1"},
                    "mapping": {"staff": {"Emp No": "employee_id", "Job Title": "role"}},
                    "snapshot": ["staff"],
                }
            }
        }
    )
    staff = row("staff", full_name="Zoë Secretname")
    header = {"employee_id": " EMP NO ", "role": "job title", "fte": "FTE"}
    lines = [";".join(header.get(k, k.upper()) for k in staff), ";".join(staff.values())]
    folder = inbox / "hr"
    folder.mkdir()
    data = ("\n".join(lines) + "\n").encode("latin-1")
    (folder / "staff_2026-01.csv.gz").write_bytes(gzip.compress(data))
    (result,) = land(config).files
    assert result.status == "loaded", result.error
    got = _raw(home, "staff").row(0, named=True)
    assert (got["employee_id"], got["role"], got["_snapshot"]) == ("EMP1", "physician", True)
    assert ledger.ledger(home)["mode"].to_list()[-1] == "snapshot"


def test_extra_columns_are_kept_as_json(inbox, home, land):
    deliver(inbox, "payers", [{**row("payers"), "Contract Ref": "K-9"}])
    land()
    assert json.loads(_raw(home, "payers")["_extra"][0]) == {"Contract Ref": "K-9"}


def test_extra_columns_that_look_personal_are_never_kept(inbox, home, land):
    extras = {"Patient Name": "Ada Lovelace", "DOB": "1815-12-10", "Room": "4"}
    deliver(inbox, "appointments", [{**row("appointments"), **extras}])
    land()
    assert json.loads(_raw(home, "appointments")["_extra"][0]) == {"Room": "4"}


def test_xlsx_input_with_typed_cells(inbox, home, land):
    folder = inbox / "scheduling"
    folder.mkdir()
    book = xlsxwriter.Workbook(folder / "provider_slots.xlsx")
    sheet = book.add_worksheet("Slots")
    stamp = book.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    sheet.write_row(0, 0, ["Provider_ID", "location_id", "slot_start", "slot_minutes"])
    sheet.write_row(1, 0, ["007", "L1"])
    sheet.write_datetime(1, 2, dt.datetime(2026, 1, 5, 8, 30), stamp)
    sheet.write_number(1, 3, 20)
    sheet.write_row(2, 0, ["008", "L1", "2026-01-05 09:00"])
    sheet.write_number(2, 3, 20.5)
    book.close()
    config = Config.model_validate({"sources": {"scheduling": {"format": {"sheet": "Slots"}}}})
    (result,) = land(config).files
    assert (result.status, result.rows_loaded, result.rows_rejected) == ("loaded", 1, 1), result
    got = _raw(home, "provider_slots").row(0, named=True)
    assert (got["provider_id"], got["slot_start"], got["slot_minutes"]) == (
        "007",
        dt.datetime(2026, 1, 5, 8, 30),
        20,
    )
    rejected = pl.read_parquet(home.rejected_partition("provider_slots", "000001") / "*.parquet")
    assert rejected["_line"].to_list() == [3]


def test_parquet_input(inbox, home, land):
    folder = inbox / "billing"
    folder.mkdir()
    pl.DataFrame(
        {
            "claim_id": ["CL1", "CL2"],
            "payer_id": ["PY1", None],
            "submitted_date": [dt.date(2026, 1, 7), dt.date(2026, 1, 8)],
        }
    ).write_parquet(folder / "claims-003.parquet")
    (result,) = land().files
    assert (result.status, result.rows_loaded, result.rows_rejected) == ("loaded", 1, 1)
    assert _raw(home, "claims")["submitted_date"].to_list() == [dt.date(2026, 1, 7)]


def test_no_personal_data_anywhere_in_the_lake(inbox, home, land):
    deliver(inbox, "appointments", [row("appointments"), row("appointments", status="bad")])
    deliver(inbox, "charges", [row("charges"), row("charges", units="0")])
    deliver(inbox, "staff", [row("staff"), row("staff", fte="2")])
    report = land()
    assert report.totals["rows_rejected"] == 3
    files = list(home.lake.rglob("*"))
    assert any(p.suffix == ".json" for p in files)
    for path in files:
        if path.suffix == ".parquet":
            frame = pl.read_parquet(path)
            text = frame.select(pl.all().cast(pl.String)).write_csv()
        elif path.is_file():
            text = path.read_text(encoding="utf-8")
        else:
            continue
        assert PATIENT not in text, path
        assert FULL_NAME not in text and "Secretname" not in text, path
        assert "patient_id" not in text and "full_name" not in text, path


def test_quality_results_are_stored(inbox, home, land):
    deliver(inbox, "payers", [row("payers")])
    (result,) = land().files
    stored = json.loads(home.quality_file("payers", result.delivery_id).read_text())
    assert stored["success"] is True
    assert stored["great_expectations"][0]["success"] is True
    assert result.quality["expectations"]["expect_column_values_to_be_in_set(financial_class)"]
    kinds = {r["expectation"] for r in result.quality["results"]}
    assert {"expect_column_values_to_be_in_set", "expect_column_values_to_be_unique"} <= kinds


def test_large_file_lands_in_batches_with_right_lines(inbox, home, land, monkeypatch):
    monkeypatch.setattr(land_mod, "BATCH_ROWS", 2)
    rows = [row("claims", claim_id=f"CL{i}") for i in range(5)]
    rows[3]["submitted_date"] = "never"
    deliver(inbox, "claims", rows)
    messages: list[str] = []
    report = land_inbox(inbox, home, Config(), messages.append, pseudonym_key=TEST_KEY)
    (result,) = report.files
    assert (result.rows_received, result.rows_loaded, result.rows_rejected) == (5, 4, 1)
    parts = sorted(p.name for p in home.raw_partition("claims", "000001").iterdir())
    assert parts == ["part-0.parquet", "part-1.parquet", "part-2.parquet"]
    assert _raw(home, "claims")["_line"].to_list() == [2, 3, 4, 6]
    rejected = pl.read_parquet(home.rejected_partition("claims", "000001") / "*.parquet")
    assert rejected["_line"].to_list() == [5]
    assert any("rows read" in m for m in messages)


def test_crash_leftovers_are_removed_and_the_file_lands_again(inbox, home, land, monkeypatch):
    deliver(inbox, "payers", [row("payers")])

    def crash(*_args, **_kwargs):
        raise KeyboardInterrupt  # the process dies before the ledger entry is written

    monkeypatch.setattr(ledger, "write_entry", crash)
    with pytest.raises(KeyboardInterrupt):
        land()
    monkeypatch.undo()
    assert home.raw_partition("payers", "000001").exists()  # half-landed, uncommitted
    stray = home.incoming / "000007"
    stray.mkdir()
    report = land()
    assert home.raw_partition("payers", "000001") in report.recovered
    assert not stray.exists()
    (result,) = report.files
    assert result.status == "loaded"
    assert _raw(home, "payers")["_delivery_id"].to_list() == [result.delivery_id]


def test_a_delivery_in_flight_is_not_taken_for_debris(home):
    from pipelines.core.home import ensure_lake

    ensure_lake(home)
    held = ledger.reserve(home)
    (held.scratch / "raw").mkdir()
    assert ledger.recover(home) == []
    assert held.scratch.exists()
    held.release()


def test_parallel_reservations_get_distinct_ids(home):
    from pipelines.core.home import ensure_lake

    ensure_lake(home)
    got: list[ledger.Reservation] = []
    threads = [threading.Thread(target=lambda: got.append(ledger.reserve(home))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({r.delivery_id for r in got}) == 8
    for r in got:
        r.release()


def test_land_entity_only_lands_that_entity(inbox, home):
    deliver(inbox, "payers", [row("payers")])
    deliver(inbox, "claims", [row("claims")])
    report = land_entity(inbox, home, Config(), "claims", pseudonym_key=TEST_KEY)
    assert [f.entity for f in report.files] == ["claims"]
    with pytest.raises(KeyError, match="unknown entity"):
        land_entity(inbox, home, Config(), "invoices", pseudonym_key=TEST_KEY)


def test_entity_from_file_name():
    def entity(name: str) -> str | None:
        return Delivered(Path(name), "scheduling").entity

    assert entity("appointments_2026-W46.csv.gz") == "appointments"
    assert entity("charges-003.parquet") == "charges"
    assert entity("Provider_Slots.xlsx") == "provider_slots"
    assert entity("appointmentsX.csv") is None


def test_key_comes_from_the_environment_or_the_demo_file(inbox, home, monkeypatch):
    monkeypatch.delenv(KEY_ENV, raising=False)
    with pytest.raises(PseudonymKeyError, match=KEY_ENV):
        land_inbox(inbox, home, Config())
    assert not (home.secrets / "pseudonym.key").exists()  # landing never makes one up
    said: list[str] = []
    ensure_demo_key(home, log=said.append)
    path = home.secrets / "pseudonym.key"
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    assert len(said) == 1 and str(path) in said[0]
    ensure_demo_key(home, log=said.append)
    assert len(said) == 1  # created once
    assert resolve_key(home) == demo_key(home)
    monkeypatch.setenv(KEY_ENV, "x" * 32)
    assert resolve_key(home) == b"x" * 32
    assert land_inbox(inbox, home, Config()).files == []


def test_a_shifted_line_keeps_no_value_a_column_could_not_protect(inbox, home, land):
    # A comma inside an unquoted value moves the patient id under `provider_id` and every
    # later value one column on: neither the reasons nor the kept row may carry it.
    shifted = csv_text([row("appointments"), row("appointments", appointment_id="A2")])
    shifted = shifted.replace(f"A2,{PATIENT},", f"A2,x,{PATIENT},", 1)
    path = inbox / "scheduling" / "appointments.csv"
    path.parent.mkdir(parents=True)
    path.write_text(shifted, encoding="utf-8")
    (result,) = land().files
    assert (result.rows_loaded, result.rows_rejected) == (1, 1)
    rejected = pl.read_parquet(home.rejected_partition("appointments", "000001") / "*.parquet")
    assert rejected["column"].to_list() == ["(row)"]
    assert rejected["_raw"].to_list() == [None]
    assert PATIENT not in rejected.write_csv()


def test_a_short_line_is_rejected_whole_with_its_line_number_only(inbox, home, land):
    # A line missing its first field moves the patient id under `booked_at`: a value rule
    # would quote it ("booked_at: 'P...' is not a timestamp"). The line is rejected whole.
    good = row("appointments", appointment_id="A1")
    lines = csv_text([good, row("appointments", appointment_id="A2")]).splitlines()
    lines[2] = lines[2].split(",", 1)[1]  # drop the appointment id: one field short
    path = inbox / "scheduling" / "appointments.csv"
    path.parent.mkdir(parents=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    (result,) = land().files
    assert (result.rows_received, result.rows_loaded, result.rows_rejected) == (2, 1, 1)
    rejected = pl.read_parquet(home.rejected_partition("appointments", "000001") / "*.parquet")
    assert rejected["_line"].to_list() == [3]
    assert rejected["column"].to_list() == ["(row)"]
    assert rejected["reason"][0].startswith("the line has fewer fields (")
    assert rejected["_raw"].to_list() == [None]
    assert PATIENT not in rejected.write_csv()


def test_a_short_staff_line_keeps_no_staff_name(inbox, home, land):
    lines = csv_text([row("staff"), row("staff", employee_id="EMP2")]).splitlines()
    lines[2] = lines[2].split(",", 1)[1]  # the name now sits under another column
    path = inbox / "hr" / "staff.csv"
    path.parent.mkdir(parents=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    (result,) = land().files
    assert result.rows_rejected == 1
    rejected = pl.read_parquet(home.rejected_partition("staff", "000001") / "*.parquet")
    assert FULL_NAME not in rejected.write_csv() and rejected["_raw"].to_list() == [None]


def test_quoted_values_and_blank_lines_are_not_short(inbox, home, land):
    text = csv_text([row("payers", payer_name="Blue, Cross"), row("payers", payer_id="P2")])
    path = inbox / "billing" / "payers.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text.replace("\n", "\n\n", 1), encoding="utf-8")
    (result,) = land().files
    assert (result.rows_loaded, result.rows_rejected) == (2, 0)


def test_great_expectations_checks_a_sample_of_a_large_batch(inbox, home, land, monkeypatch):
    monkeypatch.setattr(land_mod, "QUALITY_SAMPLE_ROWS", 3)
    deliver(inbox, "claims", [row("claims", claim_id=f"CL{i}") for i in range(7)])
    (result,) = land().files
    assert result.rows_loaded == 7
    quality = result.quality
    assert (quality["rows_landed"], quality["rows_validated"]) == (7, 3)
    not_null = next(
        r
        for r in quality["results"]
        if r["name"] == "expect_column_values_to_not_be_null(claim_id)"
    )
    assert not_null["element_count"] == 3
