"""`clinicops sample --standard-out`: the same practice as 835s and FHIR, byte-for-byte stable."""

from __future__ import annotations

import subprocess

import polars as pl

from pipelines.land import fhir, x12
from pipelines.sample.standard import write_standard_inbox
from tests.conftest import clinicops_command


def _files(root):
    return {p.relative_to(root): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_sample_writes_835s_and_fhir_deterministically(tmp_path):
    csv_inbox, standard = tmp_path / "csv", tmp_path / "standard"
    proc = subprocess.run(
        [clinicops_command(), "sample", "--out", str(csv_inbox), "--providers", "1",
         "--weeks", "3", "--standard-out", str(standard)],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "835 file(s)" in proc.stdout + proc.stderr
    remits = sorted((standard / "billing").glob("remittance_*_20??-W??.835"))
    assert remits, "one 835 per payer and ISO week"
    ndjson = {p.name for p in (standard / "scheduling").glob("*.ndjson")}
    assert ndjson == {
        f"{t}.ndjson" for t in ("Location", "Schedule", "Slot", "Appointment", "Encounter")
    }
    assert not (standard / "scheduling" / "appointments.csv.gz").exists()
    # Every 835 is valid 5010 and every FHIR line a valid resource.
    parsed = pl.concat([x12.parse(p).frames["transactions"] for p in remits])
    assert parsed["_problem"].is_null().all() and parsed.height > 0
    for name, entity in (("Appointment.ndjson", "appointments"), ("Slot.ndjson", "provider_slots")):
        rows = pl.concat(list(fhir.read_batches(standard / "scheduling" / name, entity, 10_000)))
        assert rows["_problem"].is_null().all(), rows.filter(pl.col("_problem").is_not_null())
    # The same CSV delivery always gives the same bytes.
    again = tmp_path / "again"
    write_standard_inbox(csv_inbox, again)
    assert _files(again) == _files(standard)
