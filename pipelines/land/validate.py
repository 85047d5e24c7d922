"""Cast text to contract types and judge every row, with vectorised Polars expressions.

Values arrive as text (see files.py) and are parsed by strict patterns before any cast,
because Polars' and DuckDB's own casts are lenient where the contract is not: they
accept `inf`, `nan`, `1_000`, surrounding blanks, and read a date as a timestamp. A
value that fails gets one reason per broken rule; a row with any reason is rejected.

Reasons quote the offending value so a practice can find and fix it at the source,
except for personal-data columns, whose values are never written into a reason, and
except on a line whose fields are shifted, where any column may hold personal data.

Beyond the contract's own rules, landing decides what is plausible, because one absurd
value can break or distort the whole build downstream:
- numbers of 10^12 or more (in absolute value) are rejected: no practice figure is that
  large, and below it money keeps exact cents in the lake's float64;
- dates, months and timestamps must fall after 1900-01-01 (the usual placeholder for "no
  date") and at most 10 years after the day the file is landed (9999-12-31 and typos
  such as 2206): one such date would stretch every calendar and the as-of date with it;
- a location's timezone must be a time zone DuckDB knows (IANA names, any case), since
  the build converts every clock time with it;
- a posting (`posted_date` of charges and transactions) cannot be dated after the day
  the file is landed, in the practice's timezone (CONTRACTS.md): the as-of date is the
  last posting day, so one typo such as 2031-11-23 would move every published figure.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import polars as pl

from pipelines.core.contracts import (
    Column,
    Contract,
    Kind,
    Privacy,
    RowRule,
)

# Digits are ASCII only: Polars' `\d` also matches `٢` (Arabic-Indic two), which then
# fails every cast with a misleading reason.
INT_RE = r"^[+-]?[0-9]+(\.0*)?$"  # 30.0 is a whole number; 20.5 is not
DECIMAL_RE = r"^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)$"
DATE_RE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
MONTH_RE = r"^[0-9]{4}-[0-9]{2}$"
TIMESTAMP_RE = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?"
    r"(Z|[+-][0-9]{2}(:?[0-9]{2})?)?$"
)
LEAP_SECOND_RE = r"[0-9]{2}:[0-9]{2}:60(\.[0-9]*)?(Z|[+-].*)?$"
MAX_OFFSET_HOURS = 14  # the widest UTC offset in use (Line Islands, +14:00)
MAX_MAGNITUDE = 10**12
EARLIEST_DATE = date(1900, 1, 1)  # exclusive
LATEST_YEARS_AHEAD = 10
EXCEL_SERIAL_RE = r"^[0-9]{5}(\.[0-9]+)?$"  # days since 1899-12-30: 36526 is 2000-01-01
ROW_PROBLEM_COLUMN = "(row)"  # rejections that concern the whole line, not one column
# Dates that record something already done: never after the day the file is landed.
NOT_AFTER_LANDING: dict[str, tuple[str, ...]] = {
    "charges": ("posted_date",),
    "transactions": ("posted_date",),
}


@dataclass(frozen=True)
class _Check:
    column: str
    failed: pl.Expr
    reason: pl.Expr


@dataclass(frozen=True)
class Checked:
    """One batch judged: typed good rows, one error per broken rule, and the bad-row mask."""

    good: pl.DataFrame  # contract names (typed), offset columns, `_line`, `_extra`
    errors: pl.DataFrame  # `_line`, `column`, `reason`
    rejected_mask: pl.Series


def _typed(name: str) -> str:
    return f"__typed__{name}"


def _reason(col: Column, template: str) -> pl.Expr:
    """`template` with `{value}` replaced by the quoted text, or withheld for personal data."""
    if col.privacy is not Privacy.NONE:
        return pl.lit(f"{col.name}: " + template.replace("'{value}'", "the value"))
    before, after = template.split("{value}")
    # concat_str, not pl.format: Polars 2.1's format panics inside when/then on a
    # filtered frame ("assertion failed: i < self.len()").
    return pl.concat_str([pl.lit(f"{col.name}: {before}"), pl.col(col.name), pl.lit(after)])


def _bound(value: float) -> str:
    return f"{value:g}"


def _parse(col: Column, latest: date, key: bool = False) -> tuple[list[pl.Expr], list[_Check]]:
    """The typed output expressions of one column and the checks on it."""
    t = pl.col(col.name)
    v = pl.col(_typed(col.name))
    present = t.is_not_null()
    checks: list[_Check] = []
    outputs: list[pl.Expr] = []
    if col.required:
        checks.append(
            _Check(col.name, t.is_null(), pl.lit(f"{col.name}: required value is missing"))
        )
    if key:
        checks.append(
            _Check(
                col.name,
                t.str.contains("\x00", literal=True),
                pl.lit(f"{col.name}: the value holds a NUL byte (\\x00), which no id contains"),
            )
        )

    match col.kind:
        case Kind.STR:
            outputs.append(t.alias(_typed(col.name)))
        case Kind.CODE:
            outputs.append(t.str.to_uppercase().alias(_typed(col.name)))
        case Kind.ENUM:
            outputs.append(t.str.to_lowercase().alias(_typed(col.name)))
            allowed = ", ".join(col.enum)
            checks.append(
                _Check(
                    col.name,
                    present & ~v.is_in(col.enum),
                    _reason(col, f"'{{value}}' is not one of {allowed}"),
                )
            )
        case Kind.INT:
            whole = t.str.replace(r"\.0*$", "").cast(pl.Int64, strict=False)
            outputs.append(pl.when(t.str.contains(INT_RE)).then(whole).alias(_typed(col.name)))
            checks.append(
                _Check(
                    col.name,
                    present & v.is_null(),
                    pl.when(t.str.contains(INT_RE))
                    .then(_reason(col, f"'{{value}}' is too large (limit {MAX_MAGNITUDE:.0e})"))
                    .otherwise(_reason(col, "'{value}' is not a whole number")),
                )
            )
        case Kind.NUMBER | Kind.MONEY:
            number = t.cast(pl.Float64, strict=False)
            outputs.append(pl.when(t.str.contains(DECIMAL_RE)).then(number).alias(_typed(col.name)))
            checks.append(
                _Check(
                    col.name,
                    present & v.is_null(),
                    _reason(
                        col,
                        "'{value}' is not a plain decimal number "
                        "(no currency symbols or thousands separators)",
                    ),
                )
            )
        case Kind.DATE:
            date = t.str.to_date("%Y-%m-%d", strict=False)
            outputs.append(pl.when(t.str.contains(DATE_RE)).then(date).alias(_typed(col.name)))
            checks.append(
                _Check(
                    col.name,
                    present & v.is_null(),
                    pl.when(t.str.contains(EXCEL_SERIAL_RE))
                    .then(
                        _reason(
                            col,
                            "'{value}' looks like an Excel serial day number; "
                            "export dates as YYYY-MM-DD",
                        )
                    )
                    .otherwise(_reason(col, "'{value}' is not a date (YYYY-MM-DD)")),
                )
            )
        case Kind.MONTH:
            month = (t + "-01").str.to_date("%Y-%m-%d", strict=False)
            outputs.append(pl.when(t.str.contains(MONTH_RE)).then(month).alias(_typed(col.name)))
            checks.append(
                _Check(
                    col.name,
                    present & v.is_null(),
                    _reason(col, "'{value}' is not a month (YYYY-MM)"),
                )
            )
        case Kind.TIMESTAMP:
            outputs.extend(_timestamp_outputs(col))
            offset = pl.col(col.offset_name)
            checks.append(
                _Check(
                    col.name,
                    present & v.is_null(),
                    pl.when(t.str.contains(DATE_RE))
                    .then(
                        _reason(
                            col,
                            "'{value}' is a date without a time; expected YYYY-MM-DD HH:MM[:SS]",
                        )
                    )
                    .when(t.str.contains(TIMESTAMP_RE) & t.str.contains(LEAP_SECOND_RE))
                    .then(
                        _reason(
                            col,
                            "'{value}' has second 60 (a leap second), which would become the "
                            "next minute; write :59",
                        )
                    )
                    .otherwise(
                        _reason(
                            col,
                            "'{value}' is not a timestamp "
                            "(YYYY-MM-DD HH:MM[:SS], optionally with a UTC offset)",
                        )
                    ),
                )
            )
            checks.append(
                _Check(
                    col.name,
                    v.is_not_null() & (offset.abs() > MAX_OFFSET_HOURS * 60),
                    _reason(col, "'{value}' has a UTC offset beyond ±14:00"),
                )
            )
        case _:
            raise NotImplementedError(f"landing cannot parse kind {col.kind!r}")

    checks.extend(_range_checks(col, v))
    if col.kind in (Kind.DATE, Kind.MONTH, Kind.TIMESTAMP):
        checks.append(_plausible_date(col, v, latest))
    return outputs, checks


def _plausible_date(col: Column, v: pl.Expr, latest: date) -> _Check:
    day = v.dt.date() if col.kind is Kind.TIMESTAMP else v
    failed = (day <= EARLIEST_DATE) | (day > latest)
    reason = (
        f"'{{value}}' is outside the plausible range (after {EARLIEST_DATE.isoformat()}, "
        f"at most {LATEST_YEARS_AHEAD} years after landing: {latest.isoformat()})"
    )
    return _Check(col.name, failed, _reason(col, reason))


def _timestamp_outputs(col: Column) -> list[pl.Expr]:
    """Wall-clock value as written, and the offset in minutes (null when none).

    The pattern is checked once; the parts are then cut by position and parsed with the
    plain `%Y-%m-%d %H:%M:%S` format, which Polars parses several times faster than one
    with fractional seconds or regex groups (appointments carry 7 timestamp columns).
    """
    t = pl.col(col.name)
    after_minutes = t.str.slice(16)  # "", ":SS" or ":SS.ffffff", then an optional offset
    offset_at = after_minutes.str.find("[Z+-]")
    seconds = (
        pl.when(offset_at.is_null())
        .then(after_minutes)
        .otherwise(after_minutes.str.head(offset_at))
    )
    # Polars reads second 60 as the next minute (23:59:60 became the next day's 00:00:00).
    well_formed = t.str.contains(TIMESTAMP_RE) & (seconds.str.slice(1, 2) < "60")
    whole_seconds = pl.concat_str(
        t.str.slice(0, 10),
        pl.lit(" "),
        t.str.slice(11, 5),
        pl.lit(":"),
        pl.when(seconds == "").then(pl.lit("00")).otherwise(seconds.str.slice(1, 2)),
    ).str.to_datetime("%Y-%m-%d %H:%M:%S", time_unit="us", strict=False)
    microseconds = seconds.str.slice(4).str.pad_end(6, "0").cast(pl.Int64)
    wall = pl.when(well_formed).then(whole_seconds + pl.duration(microseconds=microseconds))

    offset = after_minutes.str.slice(offset_at)
    digits = offset.str.slice(1).str.replace(":", "", literal=True)
    hours = digits.str.slice(0, 2).cast(pl.Int32, strict=False)
    minutes = digits.str.slice(2, 2).cast(pl.Int32, strict=False).fill_null(0)
    sign = pl.when(offset.str.starts_with("-")).then(-1).otherwise(1)
    offset_minutes = (
        pl.when(offset == "Z")
        .then(0)
        .when(minutes < 60)
        .then(sign * (hours * 60 + minutes))
        # Minutes of 60 or more: an impossible offset, caught by the range check.
        .otherwise(MAX_OFFSET_HOURS * 60 + 1)
    )
    return [
        wall.alias(_typed(col.name)),
        pl.when(well_formed).then(offset_minutes).cast(pl.Int32).alias(col.offset_name),
    ]


def _range_checks(col: Column, v: pl.Expr) -> list[_Check]:
    checks = []
    if col.kind in (Kind.NUMBER, Kind.MONEY):
        checks.append(
            _Check(
                col.name,
                v.abs() >= MAX_MAGNITUDE,
                _reason(col, f"'{{value}}' is too large (limit {MAX_MAGNITUDE:.0e})"),
            )
        )
    if col.kind is Kind.MONEY and col.min_value == 0:
        reason = "'{value}' is negative (money is never negative; its sign comes from the type)"
        checks.append(_Check(col.name, v < 0, _reason(col, reason)))
    elif col.min_value is not None:
        if col.min_exclusive:
            failed, rule = v <= col.min_value, f"greater than {_bound(col.min_value)}"
        else:
            failed, rule = v < col.min_value, f"at least {_bound(col.min_value)}"
        checks.append(_Check(col.name, failed, _reason(col, f"'{{value}}' must be {rule}")))
    if col.max_value is not None:
        checks.append(
            _Check(
                col.name,
                v > col.max_value,
                _reason(col, f"'{{value}}' must be at most {_bound(col.max_value)}"),
            )
        )
    if col.length is not None:
        checks.append(
            _Check(
                col.name,
                v.str.len_chars() != col.length,
                _reason(col, f"'{{value}}' is not {col.length} characters"),
            )
        )
    return checks


def _not_before(rule: RowRule) -> _Check:
    """Rule: the second column's date is not before the first's."""
    earlier, later = rule.columns
    failed = pl.col(_typed(later)) < pl.col(_typed(earlier))
    reason = pl.concat_str(
        [pl.lit(f"{rule.message} ("), pl.col(later), pl.lit(" < "), pl.col(earlier), pl.lit(")")]
    )
    return _Check(later, failed, reason)


def _cancelled_needs_cancelled_at(rule: RowRule) -> _Check:
    status, cancelled_at = rule.columns
    failed = (pl.col(_typed(status)) == "cancelled") & pl.col(cancelled_at).is_null()
    return _Check(cancelled_at, failed, pl.lit(rule.message))


@functools.cache
def _duckdb_time_zones() -> tuple[str, ...]:
    import duckdb

    with duckdb.connect() as con:
        rows = con.sql("select lower(name) from pg_timezone_names()").fetchall()
    return tuple(r[0] for r in rows)


def _known_timezone(rule: RowRule) -> _Check:
    """The build converts clock times with DuckDB, which fails on a zone it does not know."""
    (column,) = rule.columns
    v = pl.col(_typed(column))
    failed = v.is_not_null() & ~v.str.to_lowercase().is_in(_duckdb_time_zones())
    reason = pl.concat_str(
        [pl.lit(f"{rule.message} ('"), pl.col(column), pl.lit("'; e.g. America/Chicago)")]
    )
    return _Check(column, failed, reason)


# The NPI's check digit is the Luhn digit of "80840" + its first nine digits (the card
# issuer prefix of health-care identifiers, CMS "NPI check digit"). Luhn doubles every
# second digit from the right of the payload, here the 1st, 3rd, 5th, 7th and 9th of
# the nine; the prefix's own share of the sum is always 24.
_NPI_PREFIX_SUM = 24


def _valid_npi(rule: RowRule) -> _Check:
    """A bad NPI would attach a benchmark or a report to the wrong clinician; a typo in
    ten digits almost always breaks the check digit, so landing rejects it."""
    (column,) = rule.columns
    v = pl.col(_typed(column))
    digit = [v.str.slice(i, 1).cast(pl.Int32, strict=False) for i in range(10)]
    doubled = [(d * 2) - pl.when(d * 2 > 9).then(9).otherwise(0) for d in digit[0:9:2]]
    total = pl.lit(_NPI_PREFIX_SUM) + pl.sum_horizontal(doubled + digit[1:9:2])
    check_digit = (10 - total % 10) % 10
    well_formed = v.str.contains(r"^[0-9]{10}$")
    failed = v.is_not_null() & (~well_formed | (check_digit != digit[9]).fill_null(True))
    reason = pl.concat_str([pl.lit(f"{rule.message} ('"), pl.col(column), pl.lit("')")])
    return _Check(column, failed, reason)


# Each RowRule name in contracts.py has its implementation here; landing refuses to run
# a contract whose rule it does not know rather than skip it silently.
ROW_RULES: dict[str, Callable[[RowRule], _Check]] = {
    "known_timezone": _known_timezone,
    "valid_npi": _valid_npi,
    "cancelled_needs_cancelled_at": _cancelled_needs_cancelled_at,
    "posted_not_before_service": _not_before,
    "period_end_not_before_start": _not_before,
}


def _not_after_landing(col: Column, landed_on: date) -> _Check:
    reason = (
        f"'{{value}}' is after the day the file was landed ({landed_on.isoformat()}, "
        "practice time); a posting cannot be in the future"
    )
    return _Check(col.name, pl.col(_typed(col.name)) > landed_on, _reason(col, reason))


def _checks(contract: Contract, landed_on: date) -> tuple[list[pl.Expr], list[_Check]]:
    latest = latest_plausible_date(landed_on)
    outputs: list[pl.Expr] = []
    checks: list[_Check] = [
        _Check(ROW_PROBLEM_COLUMN, pl.col("_problem").is_not_null(), pl.col("_problem"))
    ]
    for col in contract.columns:
        col_outputs, col_checks = _parse(col, latest, key=col.name in contract.key)
        outputs.extend(col_outputs)
        checks.extend(col_checks)
        if col.name in NOT_AFTER_LANDING.get(contract.entity, ()):
            checks.append(_not_after_landing(col, landed_on))
    for rule in contract.row_rules:
        if rule.name not in ROW_RULES:
            raise NotImplementedError(f"{contract.entity}: no landing check for rule {rule.name!r}")
        checks.append(ROW_RULES[rule.name](rule))
    return outputs, checks


def typed_columns(contract: Contract) -> list[str]:
    """The columns of a checked good frame, in contract order (offsets after their value)."""
    names = []
    for col in contract.columns:
        names.append(col.name)
        if col.kind is Kind.TIMESTAMP:
            names.append(col.offset_name)
    return names


def latest_plausible_date(landed_on: date) -> date:
    try:
        return landed_on.replace(year=landed_on.year + LATEST_YEARS_AHEAD)
    except ValueError:  # 29 February
        return landed_on.replace(year=landed_on.year + LATEST_YEARS_AHEAD, day=28)


def check(batch: pl.DataFrame, contract: Contract, landed_on: date | None = None) -> Checked:
    """Parse and judge a text batch from files.py.

    `landed_on` is the day the file is landed in the practice's timezone (today's local
    date unless given).
    """
    names = list(contract.names)
    if "_problem" not in batch.columns:
        batch = batch.with_columns(pl.lit(None, pl.String).alias("_problem"))
    outputs, checks = _checks(contract, landed_on or date.today())
    # Lazy, so that Polars computes sub-expressions shared by several outputs once.
    staged = (
        batch.lazy()
        .with_columns(pl.col(names).str.strip_chars().replace("", None))
        .with_columns(outputs)
    )
    # Flags first, on every row; reasons (string formatting) only on the few bad rows.
    flags = [f"__failed__{i}" for i in range(len(checks))]
    staged = staged.with_columns(
        c.failed.fill_null(False).alias(f) for c, f in zip(checks, flags, strict=True)
    ).collect()
    mask = staged.select(pl.any_horizontal(flags)).to_series()
    column_of = dict(zip(flags, (c.column for c in checks), strict=True))
    # A line with a structural problem (more fields than the header) has its values in
    # the wrong columns: a patient id can sit under `scheduled_minutes`, and a value rule
    # would quote it. Such a line gets its structural reason only.
    whole = pl.col("_problem").is_null()
    errors = (
        staged.filter(mask)
        .select(
            "_line",
            pl.when(pl.col(flags[0])).then(checks[0].reason).alias(flags[0]),
            *[
                pl.when(pl.col(f) & whole).then(c.reason).alias(f)
                for c, f in zip(checks[1:], flags[1:], strict=True)
            ],
        )
        .unpivot(index="_line", on=flags, variable_name="check", value_name="reason")
        .drop_nulls("reason")
        .with_columns(pl.col("check").replace_strict(column_of).alias("column"))
        .sort("_line", maintain_order=True)
        .select("_line", "column", "reason")
    )
    good = staged.filter(~mask).select(
        "_line",
        *[pl.col(_typed(n)).alias(n) if n in names else pl.col(n) for n in typed_columns(contract)],
        "_extra",
    )
    return Checked(good=good, errors=errors, rejected_mask=mask)
