"""A line whose field count does not match its header has its values shifted: the scan
searches for the personal value it moved, not for the provider id that took its place."""

from __future__ import annotations

from pipelines.audit.privacy_scan import collect_personal
from pipelines.core.config import Config
from tests.landing.conftest import PATIENT, csv_text, row


def test_a_short_lines_patient_id_is_searched_and_its_shifted_provider_is_not(tmp_path):
    inbox = tmp_path / "inbox"
    good = row("appointments", appointment_id="A1", patient_id="P0000001")
    short = row("appointments", appointment_id="A2", patient_id=PATIENT)
    lines = csv_text([good, short]).splitlines()
    lines[2] = lines[2].split(",", 1)[1]  # one field short: every value moves left
    (inbox / "scheduling").mkdir(parents=True)
    (inbox / "scheduling" / "appointments.csv").write_text("\n".join(lines) + "\n")
    found = collect_personal([inbox], Config())
    assert found.ids.get(PATIENT) == "patient id"
    assert found.ids.get("P0000001") == "patient id"
    assert good["provider_id"] not in found.ids  # the value now under patient_id
    assert not [v for v in found.ids if v[:1].isdigit()]  # no dates or figures
