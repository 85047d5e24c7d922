"""The committed sample: what data/sample/README.md says, and what the generator makes."""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl

from pipelines.core.contracts import CONTRACTS
from pipelines.sample import generate_corrections, generate_practice
from pipelines.sample.billing import CODES_ABSENT_FROM_RVU_FILE
from tests.sample.conftest import PROJECT_ROOT, read_text

SAMPLE = PROJECT_ROOT / "data" / "sample"
INBOX, CORRECTIONS = SAMPLE / "inbox", SAMPLE / "corrections"


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*.csv.gz"))}


def _readme_counts(section: str) -> dict[str, int]:
    text = (SAMPLE / "README.md").read_text().split(f"## `{section}/`")[1].split("\n## ")[0]
    rows = re.findall(r"^\| \w+ \| (\w+) \| ([\d,]+) \|", text, flags=re.MULTILINE)
    return {entity: int(count.replace(",", "")) for entity, count in rows}


def test_committed_sample_is_what_the_generator_makes(tmp_path):
    inbox = generate_practice(tmp_path / "inbox", providers=12, weeks=104, seed=7)
    corrections = generate_corrections(tmp_path / "inbox", tmp_path / "corrections")
    assert _files(tmp_path / "inbox") == _files(INBOX)
    assert _files(tmp_path / "corrections") == _files(CORRECTIONS)
    assert _readme_counts("inbox") == inbox
    assert _readme_counts("corrections") == corrections
    assert set(inbox) == {c.entity for c in CONTRACTS}
    assert sum(p.stat().st_size for p in SAMPLE.rglob("*") if p.is_file()) < 30 * 2**20


def test_committed_sample_exercises_the_rare_cases():
    appointments = read_text(INBOX, "appointments")
    stamps = [c for c in appointments.columns if c.endswith("_at") or c == "scheduled_start"]
    written = pl.concat([appointments[c].drop_nulls() for c in stamps])
    assert written.str.ends_with("Z").sum() > 0
    assert written.str.contains(r"[+-]0[5-7]:00$").sum() > 0
    completed = appointments.filter(pl.col("status") == "completed")
    assert completed["roomed_at"].null_count() > 0
    assert completed["checked_out_at"].null_count() > 0

    charges = read_text(INBOX, "charges")
    assert set(CODES_ABSENT_FROM_RVU_FILE) <= set(charges["cpt_code"])
    transactions = read_text(INBOX, "transactions")
    assert (transactions["transaction_type"] == "refund").sum() >= 10
    sheets = read_text(INBOX, "timesheets")
    assert 0 < sheets["benefits_cost"].null_count() < sheets.height / 10
    staff = read_text(INBOX, "staff")
    assert staff["termination_date"].drop_nulls().len() >= 5
