"""The RVU seed is rebuilt from a CMS file whatever its year's layout."""

import csv
from pathlib import Path

import pytest

from pipelines.model.rvu_seed import convert, main

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "cms_pfs_rvu_2025.csv"
SEED = Path(__file__).resolve().parent.parent / "dbt_project" / "seeds" / "cms_pfs_rvu_2025.csv"


def test_committed_seed_is_the_converted_cms_file(tmp_path):
    if not SHARED.exists():
        pytest.fail(f"{SHARED} is missing: CI runs with shared/ beside the repo")
    main(str(SHARED), str(tmp_path / "seed.csv"))
    assert (tmp_path / "seed.csv").read_text() == SEED.read_text()


def test_cms_preamble_and_a_2026_extra_column_are_accepted():
    rows = [
        ["CY 2026 PPRRVU file"],
        ["(c) CMS"],
        ["HCPCS", "MOD", "DESCRIPTION", "STATUS CODE", "NEW 2026 COLUMN", "WORK RVU"],
        ["71046", "26", "", "A", "x", "0.22"],
        ["71046", "tc", "", "A", "x", "0.00"],
        ["", "", "", "", "", ""],
        ["00100", "", "", "J", "x", "0.00"],
    ]
    assert convert(rows) == [
        ["hcpcs", "modifier", "status_code", "work_rvu"],
        ["71046", "26", "A", "0.22"],
        ["71046", "TC", "A", "0.00"],
        ["00100", "", "J", "0.00"],
    ]


def test_a_file_without_the_needed_columns_is_refused():
    with pytest.raises(ValueError, match="no header row"):
        convert([["HCPCS", "MOD", "STATUS CODE"], ["99213", "", "A"]])


def test_seed_keeps_leading_zeros_and_known_work_rvus():
    with SEED.open(newline="") as fh:
        rows = {(r["hcpcs"], r["modifier"]): r["work_rvu"] for r in csv.DictReader(fh)}
    assert rows[("71046", "26")] == rows[("71046", "")] == "0.22"
    assert rows[("71046", "TC")] == "0.00"
    assert ("00100", "") in rows
