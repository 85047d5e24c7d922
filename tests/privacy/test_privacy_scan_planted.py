"""Leaks planted in a copy of the sample's artefacts are each found where they were put:
a raw patient id in a serving table, a deck slide (and so its PDF page), the digest page,
a Dagster log and its event storage, a CSV download and a download's file name, a
rejection reason in the lake's rejected rows, a staff name in the mailed digest and an
XLSX download. The command exits 1 and its report
names every place without printing what it found."""

import email
import shutil
import sqlite3
import subprocess
from email import policy
from pathlib import Path

import duckdb
import polars as pl
import pytest
from pptx import Presentation
from pptx.util import Inches

from dashboards.app import components
from dashboards.reports.pdf import pptx_to_pdf
from pipelines.audit.privacy_scan import Finding
from tests.conftest import SAMPLE_INBOX, clinicops_command
from tests.privacy.conftest import INBOXES

pytestmark = pytest.mark.e2e

PATIENT = "patient id"
STAFF = "staff name"


def _first(path: Path, column: str) -> str:
    return pl.read_csv(path, infer_schema=False, n_rows=1)[column][0]


def _append_line(path: Path, line: str) -> int:
    """Append a line; its line number."""
    text = path.read_text(encoding="utf-8")
    if text and not text.endswith("\n"):
        text += "\n"
    text += line + "\n"
    path.write_text(text, encoding="utf-8")
    return text.count("\n")


def _plant_deck(home: Path, patient: str) -> list[Finding]:
    (pptx,) = (home / "reports").glob("board-*.pptx")
    deck = Presentation(str(pptx))
    box = deck.slides[2].shapes.add_textbox(Inches(1), Inches(1), Inches(4), Inches(0.6))
    box.text_frame.text = f"Call {patient} back"
    deck.save(str(pptx))
    pdf = pptx.with_suffix(".pdf")
    pptx_to_pdf(pptx, pdf)
    return [
        Finding(str(pptx.relative_to(home)), "slide 3", PATIENT),
        Finding(str(pdf.relative_to(home)), "page 3", PATIENT),
    ]


def _plant_digest(home: Path, patient: str, name: str) -> list[Finding]:
    (page,) = (home / "reports").glob("digest-*.html")
    markup = page.read_text(encoding="utf-8")
    end = markup.index("</body>")
    markup = markup[:end] + f"<p>Ask <b>{patient}</b> about the bill</p>" + markup[end:]
    page.write_text(markup, encoding="utf-8")
    text_at = end + len("<p>")  # the paragraph's text is the place reported
    line = markup.count("\n", 0, text_at) + 1
    column = text_at - markup.rfind("\n", 0, text_at)

    eml = home / "reports" / "digest.eml"
    message = email.message_from_bytes(eml.read_bytes(), policy=policy.default)
    plain = next(p for p in message.walk() if p.get_content_type() == "text/plain")
    # Upper case, doubled spaces and base64: still the person's name.
    shouted = "  ".join(name.split()).upper()
    text = plain.get_content().rstrip("\n") + f"\nPrepared by {shouted}\n"
    plain.set_content(text, cte="base64")
    eml.write_bytes(message.as_bytes())
    part = next(n for n, p in enumerate(message.walk(), start=1) if p is plain)
    return [
        Finding(str(page.relative_to(home)), f"line {line} column {column}", PATIENT),
        Finding(
            "reports/digest.eml",
            f"line {len(text.splitlines())} of part {part} (text/plain)",
            STAFF,
        ),
    ]


def _plant_logs(home: Path, patient: str) -> list[Finding]:
    err = sorted((home / "dagster" / "storage").glob("*/compute_logs/*.err"))[0]
    line = _append_line(err, f"ERROR could not bill {patient}")
    runs = (home / "dagster" / "history" / "runs").glob("*.db")
    events = sorted(db for db in runs if db.name != "index.db")[0]
    with sqlite3.connect(events) as con:
        con.execute(
            "update event_logs set event = event || ? where id = (select min(id) from event_logs)",
            [f" {patient}"],
        )
    return [
        Finding(str(err.relative_to(home)), f"line {line}", PATIENT),
        Finding(str(events.relative_to(home)), "column event_logs.event", PATIENT),
    ]


def _plant_downloads(home: Path, patient: str, name: str) -> list[Finding]:
    exports = home / "exports"
    line = _append_line(exports / "locations.csv", f"L99,{patient} clinic")
    providers = pl.read_excel(exports / "providers.xlsx").cast(pl.String).to_pandas()
    providers.loc[len(providers)] = [name, *[""] * (providers.shape[1] - 1)]
    (exports / "providers.xlsx").write_bytes(components.to_xlsx(providers, "providers"))
    (exports / f"visits_{patient}.csv").write_text("visits\n3\n", encoding="utf-8")
    return [
        Finding("exports/locations.csv", f"line {line}", PATIENT),
        # The header is row 1 and the planted row comes after every provider.
        Finding("exports/providers.xlsx", f"row {len(providers) + 1} of sheet 'providers'", STAFF),
        Finding("<name withheld: it holds a patient id>", "file name", PATIENT),
    ]


def _plant_rejected(home: Path, patient: str) -> list[Finding]:
    """A rejection whose reason quotes an id, as a short line once made landing write."""
    part = home / "lake" / "rejected" / "appointments" / "delivery=999999" / "part-0.parquet"
    part.parent.mkdir(parents=True)
    pl.DataFrame(
        {"_line": [7], "column": ["booked_at"], "reason": [f"booked_at: '{patient}' is bad"]}
    ).write_parquet(part)
    return [Finding(str(part.relative_to(home)), "column reason", PATIENT)]


@pytest.fixture(scope="module")
def planted(served_home, tmp_path_factory):
    home = tmp_path_factory.mktemp("planted") / "home"
    shutil.copytree(served_home.root, home)
    patient = _first(SAMPLE_INBOX / "scheduling" / "appointments.csv.gz", "patient_id")
    name = _first(SAMPLE_INBOX / "hr" / "staff.csv.gz", "full_name")

    with duckdb.connect(str(home / "serving.duckdb")) as con:
        con.execute(
            "update marts.dim_locations set location_name = location_name || ' / ' || ? "
            "where location_id = (select min(location_id) from marts.dim_locations)",
            [patient],
        )
    expected = [Finding("serving.duckdb", "column marts.dim_locations.location_name", PATIENT)]
    expected += _plant_deck(home, patient)
    expected += _plant_digest(home, patient, name)
    expected += _plant_logs(home, patient)
    expected += _plant_downloads(home, patient, name)
    expected += _plant_rejected(home, patient)

    proc = subprocess.run(
        [
            clinicops_command(),
            "privacy-scan",
            "--home",
            str(home),
            *[arg for inbox in INBOXES for arg in ("--inbox", str(inbox))],
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    return proc, expected, patient, name


def _reported(stdout: str) -> set[Finding]:
    rows = [line.strip().split(" | ") for line in stdout.splitlines() if " | " in line]
    return {Finding(*row) for row in rows}


def test_every_planted_leak_is_reported_where_it_is(planted):
    proc, expected, _, _ = planted
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert _reported(proc.stdout) == set(expected)
    assert f"FOUND personal data in {len(expected)} place(s)" in proc.stdout


def test_the_report_never_shows_what_it_found(planted):
    proc, _, patient, name = planted
    output = " ".join((proc.stdout + proc.stderr).split()).casefold()
    assert patient.casefold() not in output
    assert " ".join(name.split()).casefold() not in output
