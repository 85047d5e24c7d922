"""The privacy scan's rules: ids as exact whole tokens, names as whole words ignoring case
and whitespace, pseudonymised keys never taken for ids; the input read the way landing
reads it (delimiter, encoding, vendor names, XLSX); what a home scan reads and how it
fails when it cannot read something."""

import gzip

import pandas as pd
import pytest

from pipelines.audit.privacy_scan import (
    Finding,
    Matcher,
    PersonalValues,
    collect_personal,
    scan,
)
from pipelines.core.config import Config
from pipelines.core.home import Home
from pipelines.land.pseudonymise import Pseudonymiser

APPOINTMENTS_HEADER = (
    "appointment_id,patient_id,provider_id,location_id,appointment_type,booked_at,"
    "scheduled_start,scheduled_minutes,status\n"
)


def _matcher(ids=(), names=()) -> Matcher:
    return Matcher(
        PersonalValues(
            ids=dict.fromkeys(ids, "patient id"), names=dict.fromkeys(names, "staff name")
        )
    )


@pytest.mark.parametrize(
    "text",
    [
        "P1",
        "visit of P1.",
        "(P1)",
        "P1,2026-11-02,L01",
        "x-P1-y",
        "P1_report.csv",
        "line\tP1\n",
        '{"patient": "P1"}',
        "L01\x00P1",
    ],
)
def test_an_id_is_found_as_a_whole_token(text):
    assert _matcher(ids=["P1"]).kinds(text) == {"patient id"}


@pytest.mark.parametrize("text", ["P10", "AP1", "P1a", "P1é", "9P1", "p1", "P 1", ""])
def test_an_id_is_not_found_inside_a_longer_token_nor_in_another_case(text):
    assert _matcher(ids=["P1"]).kinds(text) == set()


def test_ids_within_ids_are_told_apart():
    matcher = _matcher(ids=["P10"])
    assert matcher.kinds("P1 and P100") == set()
    assert matcher.kinds("P1 and P10") == {"patient id"}


def test_a_pseudonymised_key_is_not_taken_for_an_id():
    key = Pseudonymiser(b"0123456789abcdef").digest("P0015063")
    # Every id that could hide inside the key: its pieces of 3 to 8 hex digits.
    pieces = {key[i : i + n] for n in range(3, 9) for i in range(len(key) - n + 1)}
    matcher = _matcher(ids=[*pieces, "P0015063"])
    assert matcher.kinds(key) == set()
    assert matcher.kinds(f'{{"patient_key": "{key}", "provider_id": "PRV0002"}}') == set()
    assert matcher.kinds(f"{key[:6]} on its own") == {"patient id"}


@pytest.mark.parametrize(
    "text",
    [
        "Ana Collins",
        "ANA COLLINS",
        "ana\n   collins",
        "Dr. Ana Collins, NP",
        "<td>Ana\tCollins</td>",
        "E00001\x00Ana Collins\x00nurse_practitioner",
    ],
)
def test_a_name_is_found_ignoring_case_and_whitespace(text):
    assert _matcher(names=["Ana  Collins"]).kinds(text) == {"staff name"}


@pytest.mark.parametrize(
    "text", ["Ana Collinsworth", "Hana Collins", "Ana", "Collins", "Ana\x00Collins", "AnaCollins"]
)
def test_a_name_is_found_only_as_whole_words(text):
    assert _matcher(names=["Ana Collins"]).kinds(text) == set()


def test_names_outside_ascii_match_in_any_case():
    matcher = _matcher(names=["Zoë Straße"])
    assert matcher.kinds("ZOË STRASSE") == {"staff name"}


def test_both_kinds_in_one_text():
    matcher = _matcher(ids=["P0001"], names=["Ana Collins"])
    assert matcher.kinds("ana collins saw P0001") == {"patient id", "staff name"}


def test_input_files_are_read_the_way_landing_reads_them(tmp_path):
    inbox = tmp_path / "inbox"
    for source in ("scheduling", "hr", "billing"):
        (inbox / source).mkdir(parents=True)
    # A vendor's export: semicolons, windows-1252, its own name for the patient column,
    # a row landing would reject (its id is raw data all the same), and a line with a
    # field too many, whose shifted values are no ids.
    header = APPOINTMENTS_HEADER.replace(",", ";").replace("patient_id", "Patient Nr")
    rows = (
        "A1;  PÄ-0001 ;PRV1;L01;established;2026-01-01 10:00;not a time;20;completed\n"
        "A2;x;y;PRV1;L01;established;2026-01-01 10:00;2026-01-02 10:00;20;completed\n"
    )
    (inbox / "scheduling" / "appointments.csv").write_bytes((header + rows).encode("cp1252"))
    staff = pd.DataFrame(
        {
            "employee_id": ["E1"],
            "full_name": ["Zoë Müller"],
            "role": ["physician"],
            "location_id": ["L01"],
            "fte": [1.0],
            "hire_date": ["2020-01-01"],
        }
    )
    staff.to_excel(inbox / "hr" / "staff.xlsx", index=False, engine="xlsxwriter")
    (inbox / "billing" / "charges.csv").write_bytes(b"")
    config = Config.model_validate(
        {
            "sources": {
                "scheduling": {
                    "format": {"delimiter": ";", "encoding": "cp1252"},
                    "mapping": {"appointments": {"Patient Nr": "patient_id"}},
                }
            }
        }
    )

    personal = collect_personal([inbox], config)

    # A2's line has a field too many: its patient id may sit in any column, so its values
    # are searched for too, but for those of other lines' non-personal columns (PRV1,
    # L01, statuses) and figures, dates and times.
    assert personal.ids == {
        "PÄ-0001": "patient id",
        "A2": "patient id",
        "x": "patient id",
        "y": "patient id",
    }
    assert personal.names == {"Zoë Müller": "staff name"}
    assert personal.files == 3
    assert personal.unreadable == ["billing/charges.csv: is empty"]


def test_a_home_scan_reads_all_but_the_lake_and_fails_on_what_it_cannot_read(tmp_path):
    inbox = tmp_path / "inbox"
    (inbox / "scheduling").mkdir(parents=True)
    (inbox / "scheduling" / "appointments.csv").write_text(
        APPOINTMENTS_HEADER + "A1,P1,PRV1,L01,established,2026-01-01 10:00,2026-01-02 10:00,"
        "20,completed\n"
    )
    home = Home(tmp_path / "home")
    (home.raw / "appointments").mkdir(parents=True)
    (home.raw / "appointments" / "copy.csv").write_text("P1\n")
    home.secrets.mkdir()
    (home.secrets / "pseudonym.key").write_text("P1")
    reports = home.root / "reports"
    reports.mkdir()
    (reports / "broken.pptx").write_bytes(b"not a deck")
    (reports / "chart.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")

    report = scan(home, [inbox], Config())

    assert report.findings == []
    assert report.skipped == ["reports/chart.png"]
    assert [e.split(":")[0] for e in report.errors] == ["reports/broken.pptx"]
    assert report.exit_code == 2

    (home.root / "logs").mkdir()
    (home.root / "logs" / "run.log").write_text("landed\nfailed for P1\n")
    (home.root / "logs" / "run.log.1.gz").write_bytes(gzip.compress(b"P1 seen\n"))
    report = scan(home, [inbox], Config())

    assert report.findings == [
        Finding("logs/run.log", "line 2", "patient id"),
        Finding("logs/run.log.1.gz", "line 1", "patient id"),
    ]
    assert report.exit_code == 1


def test_a_page_is_read_as_its_reader_sees_it(tmp_path):
    home = Home(tmp_path / "home")
    (home.root / "reports").mkdir(parents=True)
    page = (
        "<html><body><p>Seen by <b>ANA</b>  Collins</p>"
        "<a href='https://dash.example/visits?patient=P1'>visits</a>"
        "<p>Pat O&#x27;Brien</p></body></html>"
    )
    (home.root / "reports" / "digest.html").write_text(page, encoding="utf-8")
    inbox = tmp_path / "inbox"
    (inbox / "hr").mkdir(parents=True)
    (inbox / "hr" / "staff.csv").write_text(
        "employee_id,full_name,role,location_id,fte,hire_date\n"
        "E1,Ana Collins,physician,L01,1,2020-01-01\n"
        "E2,Pat O'Brien,billing,L01,1,2020-01-01\n"
    )
    (inbox / "scheduling").mkdir()
    (inbox / "scheduling" / "appointments.csv").write_text(
        APPOINTMENTS_HEADER + "A1,P1,PRV1,L01,established,2026-01-01 10:00,2026-01-02 10:00,"
        "20,completed\n"
    )

    report = scan(home, [inbox], Config())

    # A block of text is placed where its text starts, a link where its tag does.
    assert set(report.findings) == {
        Finding("reports/digest.html", f"line 1 column {page.index('Seen') + 1}", "staff name"),
        Finding("reports/digest.html", f"line 1 column {page.index('<a') + 1}", "patient id"),
        Finding("reports/digest.html", f"line 1 column {page.index('Pat') + 1}", "staff name"),
    }
