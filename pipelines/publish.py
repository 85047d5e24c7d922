"""Publish a green build: copy the marts into a separate serving DuckDB file, atomically.

Dashboards, decks and `clinicops kpis` read `<home>/serving.duckdb` only. DuckDB lets
one process write a file or many read it, never both, so readers must not share the
warehouse with the build. The copy is written under a temporary name and renamed over
the old file: a reader that already has the old file open keeps reading it whole, a new
reader opens the new one, and nobody ever sees a half-written state.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from pipelines.lake import Home

PUBLISHED_SCHEMA = "marts"


@dataclass(frozen=True)
class PublishResult:
    path: Path
    tables: dict[str, int]  # table -> rows
    as_of_date: str | None


def publish(home: Home) -> PublishResult:
    """Copy every table of the warehouse's `marts` schema into a fresh serving file."""
    if not home.warehouse.exists():
        raise FileNotFoundError(f"{home.warehouse}: no warehouse to publish; run the build first")
    tmp = home.serving.with_name(f".{home.serving.name}.tmp-{os.getpid()}")
    tmp.unlink(missing_ok=True)
    tables: dict[str, int] = {}
    try:
        with duckdb.connect(str(tmp)) as con:
            con.execute(f"attach '{home.warehouse}' as warehouse (read_only)")
            names = [
                row[0]
                for row in con.execute(
                    "select table_name from duckdb_tables() where database_name = 'warehouse' "
                    "and schema_name = ? order by table_name",
                    [PUBLISHED_SCHEMA],
                ).fetchall()
            ]
            if "kpi_values" not in names:
                raise RuntimeError(f"{home.warehouse}: marts.kpi_values is missing; not publishing")
            con.execute(f"create schema {PUBLISHED_SCHEMA}")
            for name in names:
                con.execute(
                    f'create table {PUBLISHED_SCHEMA}."{name}" as '
                    f'select * from warehouse.{PUBLISHED_SCHEMA}."{name}"'
                )
                tables[name] = con.execute(
                    f'select count(*) from {PUBLISHED_SCHEMA}."{name}"'
                ).fetchone()[0]
            as_of = con.execute(
                "select cast(as_of_date as varchar) from warehouse.intermediate.int_as_of"
            ).fetchone()[0]
            con.execute(
                f"create table {PUBLISHED_SCHEMA}.publish_info as select "
                "cast(? as date) as as_of_date, cast(? as timestamp) as published_at",
                [as_of, datetime.now(UTC).replace(tzinfo=None)],
            )
            con.execute("detach warehouse")
            con.execute("checkpoint")
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, home.serving)
    finally:
        tmp.unlink(missing_ok=True)
        Path(f"{tmp}.wal").unlink(missing_ok=True)
    return PublishResult(path=home.serving, tables=tables, as_of_date=as_of)
