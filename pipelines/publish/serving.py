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

from pipelines.core import faults
from pipelines.core.engine import Engine, spark_table_dir
from pipelines.core.failures import operator_error
from pipelines.core.home import Home
from pipelines.core.home_lock import home_lock
from pipelines.core.warehouse_lock import WarehouseBusy, lock_holder

PUBLISHED_SCHEMA = "marts"


@dataclass(frozen=True)
class PublishResult:
    path: Path
    tables: dict[str, int]  # table -> rows
    as_of_date: str | None


def publish(home: Home, engine: Engine = Engine.duckdb) -> PublishResult:
    """Copy every table of the build's `marts` schema into a fresh serving file.

    A Spark build leaves its tables as Parquet folders (pipelines/model/build.py
    spark_table_dir); DuckDB reads them into the same serving file, so dashboards do not
    depend on the engine that built the marts.

    Holds the home's writer lock (pipelines/core/home_lock.py). A full disk or a warehouse
    another program holds ends in one sentence (OperatorError, WarehouseBusy); the old
    serving file is then untouched and the copy removed.
    """
    with home_lock(home.root):
        try:
            return _publish(home, engine)
        except (OSError, duckdb.Error) as exc:
            if (plain := operator_error(exc, "publishing", home.root)) is not None:
                raise plain from exc
            if isinstance(exc, duckdb.IOException) and "lock" in str(exc).lower():
                raise WarehouseBusy(
                    f"publishing stopped: {home.warehouse} is held by PID "
                    f"{lock_holder(home.warehouse) or 'unknown'}; close the program that "
                    "has it open and publish again"
                ) from exc
            raise


def _publish(home: Home, engine: Engine) -> PublishResult:
    if engine == Engine.duckdb and not home.warehouse.exists():
        raise FileNotFoundError(f"{home.warehouse}: no warehouse to publish; run the build first")
    _remove_abandoned_copies(home)
    tmp = home.serving.with_name(f".{home.serving.name}.tmp-{os.getpid()}")
    tmp.unlink(missing_ok=True)
    tables: dict[str, int] = {}
    try:
        with duckdb.connect(str(tmp)) as con:
            if engine == Engine.spark:
                sources, as_of_source = _spark_marts(home)
            else:
                sources, as_of_source = _warehouse_marts(con, home)
            if "kpi_values" not in sources:
                raise RuntimeError(f"{home.root}: marts.kpi_values is missing; not publishing")
            con.execute(f"create schema {PUBLISHED_SCHEMA}")
            for name in sorted(sources):
                con.execute(
                    f'create table {PUBLISHED_SCHEMA}."{name}" as select * from {sources[name]}'
                )
                tables[name] = con.execute(
                    f'select count(*) from {PUBLISHED_SCHEMA}."{name}"'
                ).fetchone()[0]
            as_of = con.execute(
                f"select cast(as_of_date as varchar) from {as_of_source}"
            ).fetchone()[0]
            con.execute(
                f"create table {PUBLISHED_SCHEMA}.publish_info as select "
                "cast(? as date) as as_of_date, cast(? as timestamp) as published_at",
                [as_of, datetime.now(UTC).replace(tzinfo=None)],
            )
            faults.point("publish.copying")
            con.execute("detach database if exists warehouse")
            con.execute("checkpoint")
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        faults.point("publish.swap")
        os.replace(tmp, home.serving)
    finally:
        tmp.unlink(missing_ok=True)
        Path(f"{tmp}.wal").unlink(missing_ok=True)
    return PublishResult(path=home.serving, tables=tables, as_of_date=as_of)


def _warehouse_marts(con: duckdb.DuckDBPyConnection, home: Home) -> tuple[dict[str, str], str]:
    """The DuckDB warehouse's marts (table -> relation) and the relation holding the as-of."""
    con.execute(f"attach '{home.warehouse}' as warehouse (read_only)")
    names = con.execute(
        "select table_name from duckdb_tables() where database_name = 'warehouse' "
        "and schema_name = ?",
        [PUBLISHED_SCHEMA],
    ).fetchall()
    marts = {name: f'warehouse.{PUBLISHED_SCHEMA}."{name}"' for (name,) in names}
    return marts, "warehouse.intermediate.int_as_of"


def _spark_marts(home: Home) -> tuple[dict[str, str], str]:
    """The same for a Spark build: one Parquet folder per table."""
    folder = spark_table_dir(home, PUBLISHED_SCHEMA, "kpi_values").parent
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no Spark marts to publish; run the build first")
    marts = {
        table.name: _parquet_table(table)
        for table in folder.iterdir()
        if table.is_dir() and not table.name.startswith((".", "_"))
    }
    return marts, _parquet_table(spark_table_dir(home, "intermediate", "int_as_of"))


def _parquet_table(table_dir: Path) -> str:
    return f"read_parquet('{table_dir}/*.parquet')"


def _remove_abandoned_copies(home: Home) -> None:
    """A publish killed before its rename leaves its copy behind; drop those of dead processes."""
    for copy in home.root.glob(f".{home.serving.name}.tmp-*"):
        pid = copy.name.rsplit("-", 1)[1].removesuffix(".wal")
        if pid.isdigit() and not _running(int(pid)):
            copy.unlink(missing_ok=True)


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
