"""Issue 7's privacy check in CI: on the sample, nothing a run serves, logs, mails or
hands out as a download carries a raw patient id or a staff name."""

import subprocess

import pytest
from pptx import Presentation

from pipelines.audit.privacy_scan import scan
from pipelines.core.config import Config
from tests.conftest import PROJECT_ROOT, clinicops_command
from tests.privacy.conftest import DQ_TABLES, INBOXES

pytestmark = pytest.mark.e2e


def test_sample_artefacts_hold_no_personal_data(served_home):
    report = scan(served_home, INBOXES, Config())

    assert report.findings == []
    assert report.errors == []
    # It looked for every id and name of the sample, in every kind of artefact.
    counts = report.personal.counts()
    assert counts["patient id"] > 20_000
    assert counts["staff name"] > 40
    assert report.personal.unreadable == []
    assert report.files["database"] == 1  # serving.duckdb
    assert report.files["sqlite"] >= 2  # Dagster's run and event storage
    assert report.files["pptx"] == 1 and report.files["pdf"] == 1
    assert report.files["html"] >= 1 and report.files["eml"] == 1
    assert report.files["xlsx"] == 4 + len(DQ_TABLES)
    (deck,) = (served_home.root / "reports").glob("board-*.pptx")
    slides = len(Presentation(str(deck)).slides)
    assert slides > 1 and report.places["slide"] == slides and report.places["page"] == slides
    assert report.places["column"] > 300
    assert report.places["table"] > 20


def test_privacy_scan_command_passes_on_the_sample(served_home):
    # dbt's own log beside the project (the parse a run starts with when the project
    # changed) is a log the run leaves outside the home.
    dbt_logs = PROJECT_ROOT / "dbt_project" / "logs"
    extra = ["--extra", str(dbt_logs)] if dbt_logs.is_dir() else []
    proc = subprocess.run(
        [
            clinicops_command(),
            "privacy-scan",
            "--home",
            str(served_home.root),
            *[arg for inbox in INBOXES for arg in ("--inbox", str(inbox))],
            *extra,
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.rstrip().endswith("no personal data found")
