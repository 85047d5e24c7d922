"""A reader process for test_readers.py: query the serving file until told to stop.

Each query does what a dashboard request does: open the serving file read-only, read
`kpi_values` and `publish_info`, close. One answer records which published state it
came from (`published_at`) and a checksum of every kpi_values row it saw in that same
connection, so the test can prove the answer was one complete state.
"""

from __future__ import annotations

import time
from pathlib import Path

import duckdb

# Order-independent: the sum of the hashes of every row.
CHECKSUM_SQL = (
    "select (select published_at from marts.publish_info)::varchar, "
    "count(*), sum(hash(k)) from marts.kpi_values as k"
)


def checksum(serving: Path) -> tuple[str, int, int]:
    with duckdb.connect(str(serving), read_only=True) as con:
        ((published_at, rows, total),) = con.sql(CHECKSUM_SQL).fetchall()
    return published_at, rows, int(total)


def read_until(serving: str, stop: str) -> list[dict]:
    answers: list[dict] = []
    while not Path(stop).exists():
        time.sleep(0.02)  # a dashboard user, not a benchmark loop
        started = time.perf_counter()
        try:
            published_at, rows, total = checksum(Path(serving))
            answers.append(
                {
                    "at": time.time(),
                    "seconds": time.perf_counter() - started,
                    "state": (published_at, rows, total),
                    "error": None,
                }
            )
        except Exception as exc:  # every failure is an answer the test must see
            answers.append({"at": time.time(), "seconds": 0.0, "state": None, "error": repr(exc)})
    return answers
