"""The increment week is cut out of a generated file by date, values kept as text."""

from __future__ import annotations

import gzip
from datetime import date

from bench.practices import _split


def test_rows_of_the_week_go_to_the_increment_and_the_rest_stay(tmp_path) -> None:
    source = tmp_path / "claims.csv.gz"
    source.write_bytes(
        gzip.compress(
            b"claim_id,payer_id,submitted_date\n"
            b"CL1,PY001,2026-11-22\n"
            b"CL2,,2026-11-23\n"
            b"CL3,PY002,2026-11-29\n"
            b"CL4,PY002,2026-11-30\n"
        )
    )
    base, week = tmp_path / "base.csv.gz", tmp_path / "week.csv.gz"
    _split(source, "submitted_date", date(2026, 11, 23), base, week)
    assert gzip.decompress(base.read_bytes()).decode().splitlines() == [
        "claim_id,payer_id,submitted_date",
        "CL1,PY001,2026-11-22",
        "CL4,PY002,2026-11-30",
    ]
    assert gzip.decompress(week.read_bytes()).decode().splitlines() == [
        "claim_id,payer_id,submitted_date",
        "CL2,,2026-11-23",
        "CL3,PY002,2026-11-29",
    ]
