"""The three practices of the benchmark, and the one-week increment on top of the largest.

The sample generator draws a longer practice differently from its first weeks (the
random stream depends on the span), so an increment cannot be the difference of two
generated practices. Instead one practice a week longer is generated and split by date:
every row dated in its last week becomes the increment, delivered as new files; the
rest is the base history. Landing both gives exactly the longer practice, so the
increment's build sees consistent data.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb

from pipelines.sample import generate_practice
from pipelines.sample.writer import inbox_path

SEED = 7
# The generator's default last day of history; the increment week follows it.
END_DATE = date(2026, 11, 22)

# Which date says that a row belongs to the increment week; entities not listed
# (reference data, staff, monthly finance) are delivered whole with the base.
INCREMENT_DATE = {
    "appointments": "scheduled_start",
    "provider_slots": "slot_start",
    "charges": "posted_date",
    "claims": "submitted_date",
    "transactions": "posted_date",
    "timesheets": "pay_period_end",
}


@dataclass(frozen=True)
class Size:
    name: str
    providers: int
    weeks: int


# In size order. 30x52 and 100x104 are the practices of issue 23's pandas-peer targets;
# tiny is only for the harness's smoke test (tests/bench/), never a figure.
SIZES = {
    size.name: size
    for size in (
        Size("tiny", 4, 12),
        Size("small", 12, 104),
        Size("30x52", 30, 52),
        Size("medium", 60, 156),
        Size("100x104", 100, 104),
        Size("large", 300, 156),
    )
}


MEASURED = [name for name in SIZES if name != "tiny"]  # what `bench.run` times by default


def generate(size: Size, inbox: Path) -> dict[str, int]:
    """The practice as the generator writes it: rows per entity."""
    return generate_practice(inbox, providers=size.providers, weeks=size.weeks, seed=SEED)


def generate_with_increment(size: Size, inbox: Path, increment: Path, scratch: Path) -> date:
    """The practice plus one week, split into base history and increment; the week's Monday."""
    first = END_DATE + timedelta(days=1)
    longer = scratch / "longer"
    generate_practice(
        longer,
        providers=size.providers,
        weeks=size.weeks + 1,
        seed=SEED,
        end_date=END_DATE + timedelta(days=7),
    )
    for path in sorted(longer.glob("*/*.csv.gz")):
        entity = path.name.split(".", 1)[0]
        base = inbox_path(inbox, entity)
        base.parent.mkdir(parents=True, exist_ok=True)
        if entity not in INCREMENT_DATE:
            shutil.copyfile(path, base)
            continue
        week = increment / base.parent.name / f"{entity}_{first:%G-W%V}.csv.gz"
        week.parent.mkdir(parents=True, exist_ok=True)
        _split(path, INCREMENT_DATE[entity], first, base, week)
    shutil.rmtree(longer)
    return first


def _split(path: Path, column: str, first: date, base: Path, week: Path) -> None:
    """Rows of the week into `week`, the others into `base`, values kept as text."""
    last = first + timedelta(days=6)
    in_week = f"left({column}, 10) between '{first}' and '{last}'"
    with duckdb.connect() as con:
        con.execute(
            f"create table rows as select * from read_csv('{path}', header = true, "
            "all_varchar = true)"
        )
        for target, keep in ((base, f"not ({in_week})"), (week, in_week)):
            con.execute(
                f"copy (select * from rows where {keep}) to '{target}' "
                "(header true, compression gzip)"
            )
