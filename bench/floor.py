"""The floor: bare DuckDB loads the practice's CSVs and runs one hand-written script.

Each entity's files are loaded as text (`raw_<entity>`, with the file name and line of
every row), so that floor.sql applies the product's contract checks to the raw text and
keeps the newest delivery of each key, as landing and staging do: the ratio to the floor
compares like with like.

Run as its own process (`python -m bench.floor DATABASE INBOX`) so that the harness
measures it exactly like a pipeline stage.
"""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb

SCRIPT = Path(__file__).with_name("floor.sql")
TABLES = ("appointments", "charges", "transactions", "timesheets", "staff")


def run_floor(database: Path, inbox: Path) -> int:
    """Load the CSVs the core KPIs need and compute them; rows of `floor_kpis`."""
    with duckdb.connect(str(database)) as con:
        for table in TABLES:
            # every delivery of the entity (`charges.csv.gz`, `charges_2026-W48.csv.gz`)
            paths = [str(p) for p in inbox.rglob(f"{table}*.csv*") if _entity(p) == table]
            con.execute(
                f"create table raw_{table} as select *, parse_filename(filename) as _file, "
                "row_number() over () as _line "
                "from read_csv(?, header = true, all_varchar = true, filename = true, "
                "union_by_name = true)",
                [sorted(paths)],
            )
        con.execute(SCRIPT.read_text(encoding="utf-8"))
        return con.execute("select count(*) from floor_kpis").fetchone()[0]


def _entity(path: Path) -> str:
    stem = path.name.split(".", 1)[0]
    return stem.split("_20", 1)[0]


if __name__ == "__main__":
    rows = run_floor(Path(sys.argv[1]), Path(sys.argv[2]))
    print(f"floor_kpis: {rows} rows")
