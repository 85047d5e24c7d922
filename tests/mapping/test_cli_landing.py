"""`clinicops inspect`, `land --dry-run` and `land`'s summary and exit code, as real processes."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from dagster import AssetCheckSeverity

from pipelines.core.config import load_config
from pipelines.land.land import FileResult, LandingReport
from pipelines.orchestrate.defs.landing import FILES_CHECK, _entity_results
from tests.conftest import clinicops_command
from tests.mapping.vendor_files import PRESETS, kaggle_csv, write_vendor_inbox


def clinicops(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "COLUMNS": "250"}
    return subprocess.run(
        [clinicops_command(), *args], capture_output=True, text=True, timeout=600, env=env
    )


def _config(tmp_path: Path) -> Path:
    path = tmp_path / "clinicops.yaml"
    path.write_text(f"presets: [{', '.join(PRESETS)}]\nlanding: {{settle_seconds: 0}}\n")
    return path


def test_dry_run_reports_per_file_and_writes_nothing(tmp_path):
    inbox = tmp_path / "inbox"
    write_vendor_inbox(inbox)
    home = tmp_path / "home"
    proc = clinicops("land", "--dry-run", "--inbox", str(inbox), "--home", str(home),
                     "--config", str(_config(tmp_path)))  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    out = proc.stderr
    assert "Dry run: nothing was written" in out
    assert "appointments (pm_appointment_report)" in out
    assert "1 × appointment_type: 'Consult' (column Appt Type) is not in the column's value" in out
    assert "1 × status: 'Maybe' (column No-show)" in out
    assert "transactions (medisoft_patient_transactions)" in out
    assert not home.exists()


def test_land_ends_with_a_summary_and_exit_3_when_a_file_is_refused(tmp_path):
    inbox = tmp_path / "inbox"
    (inbox / "scheduling").mkdir(parents=True)
    (inbox / "scheduling" / "KaggleV2-May-2016.csv").write_text(kaggle_csv())
    (inbox / "billing").mkdir()
    (inbox / "billing" / "invoices.csv").write_text("a,b\n1,2\n")
    home = tmp_path / "home"
    proc = clinicops("land", "--inbox", str(inbox), "--home", str(home),
                     "--config", str(_config(tmp_path)))  # fmt: skip
    assert proc.returncode == 3, proc.stderr
    assert "Landing summary" in proc.stderr
    assert "billing/invoices.csv" in proc.stderr and "unknown entity" in proc.stderr
    assert "1 file(s) landed, 1 refused; rows loaded 12, rejected 1, filtered 0" in proc.stderr
    assert "1 file(s) or entries were refused" in proc.stderr


def test_land_exits_0_when_everything_landed(tmp_path):
    inbox = tmp_path / "inbox"
    (inbox / "scheduling").mkdir(parents=True)
    (inbox / "scheduling" / "KaggleV2-May-2016.csv").write_text(kaggle_csv())
    proc = clinicops("land", "--inbox", str(inbox), "--home", str(tmp_path / "home"),
                     "--config", str(_config(tmp_path)))  # fmt: skip
    assert proc.returncode == 0, proc.stderr


def test_inspect_profiles_and_drafts_a_config_that_loads(tmp_path):
    export = tmp_path / "KaggleV2-May-2016.csv"
    export.write_text(kaggle_csv())
    draft = tmp_path / "draft.yaml"
    proc = clinicops("inspect", str(export), "--write-config", str(draft))
    assert proc.returncode == 0, proc.stderr
    out = proc.stderr
    assert "encoding utf-8, delimiter ',', header on line 1, 13 rows; entity: appointments" in out
    assert "%Y-%m-%dT%H:%M:%SZ" in out  # the timestamp format found
    assert "Maybe, No, Yes" in out  # a low-cardinality column's values
    assert "29872499824296" not in out  # patient ids are masked
    text = draft.read_text()
    assert "entity: appointments" in text and "TODO" in text
    assert 'status: {column: "No-show", values: {"Maybe": TODO, "No": TODO, "Yes": TODO}}' in text
    # Once the TODOs are filled in, the draft is a valid config.
    filled = text.replace(
        '"Maybe": TODO, "No": TODO, "Yes": TODO', '"No": completed, "Yes": no_show'
    )
    filled = filled.replace("{constant: TODO}", "{constant: '15'}")
    draft.write_text(filled.replace("appointment_type: {column: \"AppointmentDay\"}",
                                    "appointment_type: {constant: established}"))  # fmt: skip
    route = load_config(draft).source("scheduling").routes[0]
    assert route.columns["patient_id"].column == "PatientId"
    assert route.columns["booked_at"].format.local


def test_the_entity_check_fails_with_error_severity_when_a_file_was_refused(tmp_path):
    refused = FileResult(tmp_path / "charges.csv", "billing", "charges", "000001", "failed",
                         error="charges.csv: is empty", relative="billing/charges.csv")  # fmt: skip
    results = list(_entity_results("charges", [LandingReport(files=[refused])]))
    (check,) = [r for r in results if getattr(r, "check_name", None) == FILES_CHECK]
    assert not check.passed
    assert check.severity is AssetCheckSeverity.ERROR
    assert "billing/charges.csv: charges.csv: is empty" in check.metadata["refused"].text


def test_privacy_scan_reads_routed_vendor_files(tmp_path):
    from pipelines.audit.privacy_scan import collect_personal

    inbox = tmp_path / "inbox"
    write_vendor_inbox(inbox)
    found = collect_personal([inbox], load_config(_config(tmp_path)))
    # Kaggle's PatientId, the report's Patient Acct and Medisoft's Chart (charges only).
    assert {"29872499824296", "100104", "CH001"} <= set(found.ids)
    assert found.unreadable == []
