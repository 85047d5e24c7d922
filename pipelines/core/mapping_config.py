"""The mapping language of the practice config: routes from a vendor's files to contracts.

A source may declare `routes`: each takes the files whose name matches a glob, keeps the
rows its `where` admits, and builds every contract column of one entity from the file's
columns: a rename, a constant, a derived SQL expression, or the sign of an amount, then
a value map and a format. docs/mapping.md explains each with an example.

Everything is checked when the config is read, so a mistake is one error naming its key
(`sources.scheduling.routes.0.columns.status.values`) and the file, never a failed run.
Derived expressions are SQL, parsed and whitelisted here with sqlglot (column
references, literals, CASE, COALESCE, string, date and arithmetic functions) and
evaluated later by DuckDB over the file's text columns (pipelines/land/expressions.py).
"""

from __future__ import annotations

import re
from typing import Literal

import sqlglot
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from sqlglot import exp

from pipelines.core.contracts import BY_ENTITY, Column, Kind

SIGNS = ("negative", "zero", "positive")
DATE_KINDS = (Kind.DATE, Kind.TIMESTAMP, Kind.MONTH)
NUMBER_KINDS = (Kind.INT, Kind.NUMBER, Kind.MONEY)
# strptime directives that Polars (chrono) parses; anything else is a typo in a pattern.
_DIRECTIVES = set("YyCmbBhdeHIklMSfpPzZjaAuwUWGgVTFDRrcxXsnt%")
_DIRECTIVE = re.compile(r"%([-_0^#]?)([:.]?\d?[A-Za-z%])")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FileFormat(_Strict):
    """How a source's files are read when they are not plain UTF-8 comma CSV."""

    delimiter: str = ","
    encoding: str = "utf-8"
    sheet: str | None = None  # XLSX: the sheet to read; default the first

    @field_validator("delimiter")
    @classmethod
    def _one_char(cls, v: str) -> str:
        if len(v) != 1:
            raise ValueError("delimiter must be a single character")
        return v


# --- derived expressions -------------------------------------------------------------

# SQL node types an expression may contain: values, operators, CASE, casts.
_ALLOWED_NODES: tuple[type[exp.Expression], ...] = (
    exp.Column,
    exp.Identifier,
    exp.Literal,
    exp.Null,
    exp.Boolean,
    exp.Paren,
    exp.Neg,
    exp.Not,
    exp.And,
    exp.Or,
    exp.Add,
    exp.Sub,
    exp.Mul,
    exp.Div,
    exp.IntDiv,
    exp.Mod,
    exp.EQ,
    exp.NEQ,
    exp.GT,
    exp.GTE,
    exp.LT,
    exp.LTE,
    exp.Is,
    exp.In,
    exp.Between,
    exp.Like,
    exp.ILike,
    exp.DPipe,
    exp.Case,
    exp.If,
    exp.DataType,
    exp.Var,
    exp.Interval,
    exp.Tuple,
    exp.Array,
)
# Functions by their SQL name (sqlglot's, or DuckDB's for the ones sqlglot does not know):
# string, date/time, arithmetic and null handling. Nothing reads a table, a file, the
# environment or the clock (a mapping must give the same rows on every run).
ALLOWED_FUNCTIONS = frozenset(
    {
        # null handling and conditions
        "COALESCE", "NULLIF", "IF", "CASE", "GREATEST", "LEAST", "IFNULL",
        # casts
        "CAST", "TRY_CAST",
        # strings
        "LOWER", "UPPER", "TRIM", "LTRIM", "RTRIM", "SUBSTRING", "LEFT", "RIGHT", "LENGTH",
        "CONCAT", "CONCAT_WS", "REPLACE", "SPLIT_PART", "STRPOS", "LPAD", "RPAD",
        "REGEXP_REPLACE", "REGEXP_EXTRACT", "REGEXP_LIKE", "REGEXP_MATCHES", "STARTS_WITH",
        "ENDS_WITH", "CONTAINS", "REVERSE", "REPEAT", "INITCAP", "PREFIX", "SUFFIX",
        # dates and times
        "STR_TO_TIME", "STRPTIME", "TRY_STRPTIME", "TIME_TO_STR", "STRFTIME", "DATE_DIFF",
        "DATEDIFF", "DATE_ADD", "DATE_SUB", "DATE_TRUNC", "TIMESTAMP_TRUNC", "DATE_PART",
        "EXTRACT", "YEAR", "MONTH", "DAY", "HOUR", "MINUTE", "SECOND", "TS_OR_DS_TO_DATE",
        "TO_DATE", "MAKE_DATE", "MAKE_TIMESTAMP", "DATE", "TIMESTAMP_ADD", "TIMESTAMP_DIFF",
        "TS_OR_DS_ADD", "DAY_OF_WEEK", "DAYOFWEEK", "LAST_DAY", "TIME_STR_TO_TIME",
        "STR_TO_DATE", "DATE_STR_TO_DATE", "TIMESTAMP_FROM_PARTS",
        # numbers
        "ABS", "ROUND", "FLOOR", "CEIL", "SIGN", "POW", "POWER", "MOD", "SQRT", "LN", "LOG",
        "TRUNC",
    }
)  # fmt: skip


def _function_name(node: exp.Func) -> str:
    if isinstance(node, exp.Anonymous):
        return str(node.name).upper()
    return node.sql_name().upper()


def parse_expression(text: str) -> exp.Expression:
    """A SQL expression, parsed and whitelisted; ValueError says what is not allowed."""
    try:
        parsed = sqlglot.parse_one(text, dialect="duckdb")
    except sqlglot.errors.ParseError as exc:
        first = str(exc).splitlines()[0]
        raise ValueError(f"is not a valid SQL expression ({first})") from None
    for node in parsed.walk():
        if isinstance(node, (*_ALLOWED_NODES, exp.Cast, exp.TryCast)):
            if isinstance(node, exp.Column) and node.table:
                raise ValueError(f"{node.sql()}: refer to a column by its name alone, no table")
            continue
        if isinstance(node, exp.Func):
            name = _function_name(node)
            if name not in ALLOWED_FUNCTIONS:
                raise ValueError(
                    f"function {name.lower()}() is not allowed in a mapping expression "
                    "(allowed: string, date, arithmetic and null-handling functions; "
                    "see docs/mapping.md)"
                )
            continue
        raise ValueError(
            f"{type(node).__name__.lower()} ({node.sql(dialect='duckdb')[:40]}) is not "
            "allowed in a mapping expression: only column names, literals, operators, "
            "CASE and functions"
        )
    return parsed


def expression_columns(text: str) -> list[str]:
    """The column names an expression refers to."""
    return sorted({c.name for c in parse_expression(text).find_all(exp.Column)})


# --- formats ---------------------------------------------------------------------------


class ColumnFormat(_Strict):
    """How a column's text is written, when not as the contract's plain form."""

    # Dates, timestamps and months: strptime patterns tried in order (`%m/%d/%Y`,
    # `%m/%d/%y %I:%M %p`); a pattern without a time gives local midnight.
    patterns: list[str] = Field(default_factory=list)
    # A written UTC offset or `Z` is dropped: the wall clock as written is local time, so
    # `2016-04-29T00:00:00Z` stays on 29 April at a location with a timezone.
    local: bool = False
    # A date without a time in a timestamp column is local midnight (else rejected).
    date_only: Literal["reject", "midnight"] = "reject"
    # Numbers and money: the decimal mark, a thousands separator to ignore, currency
    # symbols to ignore, accounting negatives `(25.00)`, and taking the absolute value
    # (when the sign lives in another column, see `sign_of`).
    decimal: Literal[".", ","] = "."
    thousands: Literal["", ",", ".", " ", "'"] = ""
    currency: bool = False
    parentheses: bool = False
    absolute: bool = False

    @model_validator(mode="after")
    def _checks(self) -> ColumnFormat:
        for pattern in self.patterns:
            check_pattern(pattern)
        if self.thousands and self.thousands == self.decimal:
            raise ValueError("thousands and decimal separators must differ")
        return self

    @property
    def is_number(self) -> bool:
        return bool(
            self.decimal != "." or self.thousands or self.currency or self.parentheses
            or self.absolute
        )  # fmt: skip

    @property
    def is_date(self) -> bool:
        return bool(self.patterns or self.local or self.date_only != "reject")


def check_pattern(pattern: str) -> None:
    """A strptime pattern must hold a directive and only directives Polars knows."""
    found = _DIRECTIVE.findall(pattern)
    if not found:
        raise ValueError(f"pattern {pattern!r} has no % directive (e.g. %m/%d/%Y)")
    for _flag, directive in found:
        if directive[-1] not in _DIRECTIVES:
            raise ValueError(f"pattern {pattern!r}: %{directive} is not a strptime directive")


# --- columns and routes -----------------------------------------------------------------


class ColumnSpec(_Strict):
    """Where one contract column's value comes from, then how it is mapped and read.

    Exactly one of `column` (a column of the file), `constant`, `expr` (SQL over the
    file's columns) or `sign_of` (the sign of an amount column picks the value from
    `values`, whose keys are then negative, zero and positive).
    """

    column: str | None = None
    constant: str | None = None
    expr: str | None = None
    sign_of: str | None = None
    # Value map, matched ignoring case and spaces; an unmapped value is rejected.
    values: dict[str, str | None] | None = None
    format: ColumnFormat = ColumnFormat()

    @model_validator(mode="before")
    @classmethod
    def _scalars_as_text(cls, data):
        """YAML reads `30`, `yes` and `2026-01-05` as numbers, booleans and dates."""
        if isinstance(data, dict):
            data = dict(data)
            if "constant" in data and data["constant"] is not None:
                data["constant"] = _yaml_text(data["constant"])
            if isinstance(data.get("values"), dict):
                data["values"] = {
                    _yaml_text(k): None if v is None else _yaml_text(v)
                    for k, v in data["values"].items()
                }
        return data

    @model_validator(mode="after")
    def _one_origin(self) -> ColumnSpec:
        given = [
            k for k in ("column", "constant", "expr", "sign_of") if getattr(self, k) is not None
        ]
        if len(given) != 1:
            raise ValueError(
                "give exactly one of column, constant, expr or sign_of"
                + (f" (found {', '.join(given)})" if given else "")
            )
        if self.expr is not None:
            parse_expression(self.expr)
        if self.sign_of is not None:
            unknown = set(self.values or {}) - set(SIGNS)
            if not self.values or unknown:
                raise ValueError(
                    "sign_of needs values keyed by negative, zero and/or positive"
                    + (f" (not {', '.join(sorted(unknown))})" if unknown else "")
                )
        return self


def _yaml_text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class Route(_Strict):
    """Files matching `files` (globs on the file name) land as `entity`, shaped by `columns`.

    Contract columns not listed are taken from the file's column of the same name (or
    the source's `mapping`). Several routes may read one file (each lands the rows its
    `where` admits; the others are counted as filtered).
    """

    files: list[str]
    entity: str
    name: str | None = None
    where: str | None = None
    snapshot: bool | None = None  # default: the source's `snapshot` list
    # How this route's files are read (delimiter, encoding, sheet); default the source's.
    format: FileFormat | None = None
    # Keep the file's other columns in `_extra` (never those whose name looks personal).
    # Off for exports that carry health or demographic flags the practice does not need.
    keep_extra: bool = True
    # contract column -> where its value comes from; a plain name is a rename.
    columns: dict[str, ColumnSpec] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _shorthands(cls, data):
        """`files: one-glob` and `column: VendorName` are written without the list/dict."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        if isinstance(data.get("files"), str):
            data["files"] = [data["files"]]
        if isinstance(data.get("columns"), dict):
            data["columns"] = {
                k: {"column": v} if isinstance(v, str) else v for k, v in data["columns"].items()
            }
        return data

    @model_validator(mode="after")
    def _known(self) -> Route:
        if self.entity not in BY_ENTITY:
            raise ValueError(
                f"entity: unknown entity {self.entity!r} (known: {', '.join(sorted(BY_ENTITY))})"
            )
        if not self.files or not all(g.strip() for g in self.files):
            raise ValueError("files: give at least one file name pattern (e.g. ApptReport_*.csv)")
        if self.where is not None:
            try:
                parse_expression(self.where)
            except ValueError as exc:
                raise ValueError(f"where: {exc}") from None
        contract = BY_ENTITY[self.entity]
        for target, spec in self.columns.items():
            if target not in contract.names:
                raise ValueError(
                    f"columns.{target}: {self.entity} has no column {target!r} "
                    f"(its columns: {', '.join(contract.names)})"
                )
            _check_fits(target, spec, contract.column(target))
        return self

    @property
    def label(self) -> str:
        return self.name or self.entity


def _check_fits(target: str, spec: ColumnSpec, column: Column) -> None:
    """A constant, value map or format must suit the contract column it fills."""
    where = f"columns.{target}"
    if column.kind is Kind.ENUM:
        allowed = set(column.enum)
        outputs = [spec.constant] if spec.constant is not None else []
        outputs += [v for v in (spec.values or {}).values() if v is not None]
        for value in outputs:
            if value.strip().lower() not in allowed:
                raise ValueError(f"{where}: {value!r} is not one of {', '.join(column.enum)}")
    if spec.format.is_date and column.kind not in DATE_KINDS:
        raise ValueError(f"{where}: date patterns apply to date and timestamp columns only")
    if spec.format.is_number and column.kind not in NUMBER_KINDS and spec.sign_of is None:
        raise ValueError(f"{where}: number formats apply to number and money columns only")
    if spec.format.date_only == "midnight" and column.kind is not Kind.TIMESTAMP:
        raise ValueError(f"{where}: date_only applies to timestamp columns only")
