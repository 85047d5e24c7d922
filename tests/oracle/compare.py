"""Row-by-row comparison of published kpi_values with the oracle."""

from __future__ import annotations

from pathlib import Path

import duckdb
import polars as pl

from tests.oracle.calendar_scopes import KEYS

ON = [*KEYS, "kpi"]
COMPARED = ("value", "numerator", "denominator")
REL_TOL = 1e-9
ABS_TOL = 1e-6  # money sums of ~10^6 differ in float summation order below this


def published(serving: Path) -> pl.DataFrame:
    with duckdb.connect(str(serving), read_only=True) as con:
        columns = ", ".join([*ON, *COMPARED, "complete"])
        return con.sql(f"select {columns} from marts.kpi_values").pl()


def _differs(column: str) -> pl.Expr:
    e, a = pl.col(f"{column}_oracle"), pl.col(f"{column}_served")
    tolerance = pl.max_horizontal(pl.lit(ABS_TOL), REL_TOL * pl.max_horizontal(e.abs(), a.abs()))
    return (e.is_null() != a.is_null()) | ((e - a).abs() > tolerance).fill_null(False)


def disagreements(oracle: pl.DataFrame, served: pl.DataFrame) -> pl.DataFrame:
    """Every row missing on one side or differing in value, numerator, denominator or
    complete, with a `problem` column naming what differs."""
    joined = (
        oracle.select(*ON, *COMPARED, "complete")
        .with_columns(_in_oracle=True)
        .join(
            served.select(*ON, *COMPARED, "complete").with_columns(_in_served=True),
            on=ON,
            how="full",
            coalesce=True,
            suffix="_served",
        )
        .rename({c: f"{c}_oracle" for c in (*COMPARED, "complete")})
    )
    complete_differs = pl.col("complete_oracle").ne_missing(pl.col("complete_served"))
    differs = pl.concat_str(
        [
            *(pl.when(_differs(c)).then(pl.lit(c)) for c in COMPARED),
            pl.when(complete_differs).then(pl.lit("complete")),
        ],
        separator=" ",
        ignore_nulls=True,
    )
    problem = (
        pl.when(pl.col("_in_oracle").is_null())
        .then(pl.lit("extra row"))
        .when(pl.col("_in_served").is_null())
        .then(pl.lit("missing row"))
        .otherwise(pl.when(differs != "").then(differs))
    )
    return (
        joined.with_columns(problem=problem)
        .filter(pl.col("problem").is_not_null())
        .drop("_in_oracle", "_in_served")
        .sort("kpi", *KEYS)
    )


def summary(problems: pl.DataFrame) -> pl.DataFrame:
    """One line per KPI and kind of problem, with its first example."""
    return (
        problems.group_by("kpi", "problem")
        .agg(pl.len(), pl.all().exclude("kpi", "problem").first())
        .sort("kpi")
    )
