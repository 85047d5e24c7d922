"""The floor: bare DuckDB loads the practice's CSVs and runs one hand-written script.

Run as its own process (`python -m bench.floor DATABASE INBOX`) so that the harness
measures it exactly like a pipeline stage.
"""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb

SCRIPT = Path(__file__).with_name("floor.sql")
# Loaded as text: the files mix timestamp formats, which the script parses itself.
TEXT_COLUMNS = {"appointments": ("scheduled_start", "checked_in_at", "roomed_at")}
TABLES = ("appointments", "charges", "transactions", "timesheets", "staff")


def run_floor(database: Path, inbox: Path) -> int:
    """Load the CSVs the core KPIs need and compute them; rows of `floor_kpis`."""
    with duckdb.connect(str(database)) as con:
        for table in TABLES:
            (path,) = inbox.glob(f"*/{table}.csv.gz")
            text = ", ".join(f"'{column}': 'VARCHAR'" for column in TEXT_COLUMNS.get(table, ()))
            types = f", types = {{{text}}}" if text else ""
            con.execute(
                f"create table {table} as select * from read_csv(?, header = true{types})",
                [str(path)],
            )
        con.execute(SCRIPT.read_text(encoding="utf-8"))
        return con.execute("select count(*) from floor_kpis").fetchone()[0]


if __name__ == "__main__":
    rows = run_floor(Path(sys.argv[1]), Path(sys.argv[2]))
    print(f"floor_kpis: {rows} rows")
