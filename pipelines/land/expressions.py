"""Derived columns and row filters: whitelisted SQL expressions evaluated by DuckDB.

The config has already parsed and whitelisted each expression (mapping_config.py); here
its column names are bound to the file's columns (names match after trimming and
ignoring case, like contract names) and the expressions of one route are evaluated in
one DuckDB query over each batch of the file's text columns.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import duckdb
import polars as pl
from sqlglot import exp

from pipelines.core.mapping_config import parse_expression
from pipelines.land.read import FileError, _normalise_name

# DuckDB's errors can quote a value of the file, which may be personal data.
_QUOTED = re.compile(r"\"[^\"]*\"|'[^']*'")


def bind(text: str, columns: set[str], what: str) -> str:
    """The expression as DuckDB SQL over the frame's (normalised) column names."""
    parsed = parse_expression(text)
    for column in list(parsed.find_all(exp.Column)):
        name = _normalise_name(column.name)
        if name not in columns:
            raise FileError(
                f"{what} refers to column {column.name!r}, which the file does not have"
            )
        column.replace(exp.column(exp.to_identifier(name, quoted=True)))
    return parsed.sql(dialect="duckdb")


@dataclass(frozen=True)
class Evaluator:
    """One route's `where` and derived columns, evaluated together on each batch."""

    where: str | None  # bound SQL
    derived: dict[str, str]  # output column -> bound SQL

    def __bool__(self) -> bool:
        return self.where is not None or bool(self.derived)

    def evaluate(self, frame: pl.DataFrame) -> pl.DataFrame:
        """`__keep` (the row passes `where`) and every derived column, as text, in order."""
        selects = [f"coalesce(cast(({self.where}) as boolean), false) as __keep"]
        if self.where is None:
            selects = ["true as __keep"]
        selects += [f'cast(({sql}) as varchar) as "{name}"' for name, sql in self.derived.items()]
        with duckdb.connect() as con:
            con.register("batch", frame)
            try:
                return con.sql(f"select {', '.join(selects)} from batch order by _line").pl()
            except duckdb.Error as exc:
                first = str(exc).strip().splitlines()[0]
                raise FileError(
                    f"a mapping expression failed: {_QUOTED.sub('…', first)} (try the try_ "
                    "form of a function, e.g. try_strptime, so a bad value gives null)"
                ) from None
