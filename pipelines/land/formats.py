"""Per-column formats: a vendor's dates, times and amounts rewritten in the contract's form.

Each function takes a text expression and returns (text in the contract's form, a
"failed" flag). The output is text again, so the contract's own validation
(pipelines/land/validate.py) judges a mapped file exactly as a plain one. Everything
is a vectorised Polars expression.
"""

from __future__ import annotations

import re

import polars as pl

from pipelines.core.contracts import Kind
from pipelines.core.mapping_config import ColumnFormat

# How the contract writes each kind (CONTRACTS.md): what a parsed value is written back as.
CONTRACT_FORMS = {
    Kind.DATE: "%Y-%m-%d",
    Kind.MONTH: "%Y-%m",
    Kind.TIMESTAMP: "%Y-%m-%d %H:%M:%S",
}
# A UTC offset or `Z` after a clock time (never the day of an ISO date: `2016-04-29`).
_OFFSET = r"(\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)\s*(?:Z|[+-]\d{2}(?::?\d{2})?)$"
_ISO_DATE = r"^\d{4}-\d{2}-\d{2}$"
_CURRENCY = r"[$€£¥₹]|\b(?:USD|EUR|GBP|CAD|AUD)\b"
DECIMAL_RE = r"^[+-]?(\d+\.?\d*|\.\d+)$"


def date_text(t: pl.Expr, kind: Kind, fmt: ColumnFormat) -> tuple[pl.Expr, pl.Expr]:
    """A date, timestamp or month in the contract's form, from the column's patterns.

    `local` drops a written offset first, so the wall clock as written is kept (no
    timezone conversion: a date-only day stays on its day). Without patterns the value
    keeps the contract's own form; with `date_only: midnight` a bare date in a timestamp
    column becomes that day's 00:00.
    """
    if fmt.local:
        t = t.str.replace(_OFFSET, "${1}")
    if not fmt.patterns:
        if fmt.date_only == "midnight":
            t = pl.when(t.str.contains(_ISO_DATE)).then(t + " 00:00:00").otherwise(t)
        return t, pl.lit(False)
    patterns = fmt.patterns
    if fmt.local:  # the offset is gone from the value, so it goes from the patterns too
        patterns = [re.sub(r"\s*(Z|%z|%:z|%#z)$", "", p) for p in patterns]
    parsed = [_parse(t, pattern) for pattern in patterns]
    if kind is Kind.MONTH:  # a month pattern (`%m.%Y`) has no day: read it as the 1st
        parsed = [
            _parse("01 " + t, "%d " + p) if "%d" not in p and "%j" not in p else v
            for p, v in zip(patterns, parsed, strict=True)
        ]
    value = pl.coalesce(parsed) if len(parsed) > 1 else parsed[0]
    return value.dt.strftime(CONTRACT_FORMS[kind]), t.is_not_null() & value.is_null()


def _parse(t: pl.Expr, pattern: str) -> pl.Expr:
    value = t.str.to_datetime(pattern, time_unit="us", strict=False)
    if "%Y" in pattern:
        # chrono reads `16` as the year 16 under %Y: leave such a value to a %y pattern.
        value = pl.when(value.dt.year() >= 1000).then(value)
    return value


def number_text(t: pl.Expr, fmt: ColumnFormat) -> tuple[pl.Expr, pl.Expr]:
    """A number in the contract's plain form: `$1,234.00` → 1234.00, `(25.00)` → -25.00,
    `1.234,56` → 1234.56 (decimal comma), per the column's format."""
    if fmt.currency:
        t = t.str.replace_all(_CURRENCY, "")
    t = t.str.replace_all(r"\s", "")
    if fmt.parentheses:
        t = (
            pl.when(t.str.contains(r"^\(.*\)$"))
            .then("-" + t.str.slice(1, t.str.len_chars() - 2))
            .otherwise(t)
        )
    if fmt.thousands:
        t = t.str.replace_all(fmt.thousands, "", literal=True)
    if fmt.decimal == ",":
        t = t.str.replace(",", ".", literal=True)
    if fmt.absolute:
        t = t.str.strip_prefix("-").str.strip_prefix("+")
    failed = t.is_not_null() & ~t.str.contains(DECIMAL_RE)
    return t, failed


def sign_of(t: pl.Expr, fmt: ColumnFormat) -> pl.Expr:
    """The sign of an amount written in `fmt`: negative, zero or positive (null if none)."""
    text, failed = number_text(t, fmt.model_copy(update={"absolute": False}))
    number = pl.when(~failed).then(text).cast(pl.Float64, strict=False)
    return (
        pl.when(number < 0)
        .then(pl.lit("negative"))
        .when(number > 0)
        .then(pl.lit("positive"))
        .when(number == 0)
        .then(pl.lit("zero"))
    )
