"""The engines dbt can build on, and where a Spark build leaves its tables.

Model builds on them and publish reads what they wrote, so both take the names from here.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from pipelines.core.home import Home


class Engine(StrEnum):
    """dbt targets of dbt_project/profiles.yml: DuckDB by default, Spark to scale out."""

    duckdb = "duckdb"
    spark = "spark"


def spark_dir(home: Home) -> Path:
    """Spark's metastore and warehouse (one Parquet folder per table) for this home."""
    return home.root / "spark"


def spark_table_dir(home: Home, schema: str, table: str) -> Path:
    """Where a Spark build wrote a table: `<warehouse>/<schema>.db/<table>`, Parquet files."""
    return spark_dir(home) / "warehouse" / f"{schema}.db" / table
