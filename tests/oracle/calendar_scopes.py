"""Periods (week, month, fiscal quarter, fiscal year), scopes and the long output shape of
KPI_SPEC.md, shared by the oracle's domains."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import date, timedelta

import polars as pl

KEYS = ["period_grain", "period_start", "scope", "scope_id"]
OUTPUT = {
    "period_grain": pl.String,
    "period_start": pl.Date,
    "scope": pl.String,
    "scope_id": pl.String,
    "kpi": pl.String,
    "value": pl.Float64,
    "numerator": pl.Float64,
    "denominator": pl.Float64,
}


GRAINS = ("week", "month", "quarter", "year")
MONTHS = {"month": 1, "quarter": 3, "year": 12}
# The practice's fiscal_year_start_month; set for one oracle run by `fiscal_year`.
_FISCAL = {"start": 1}


@contextmanager
def fiscal_year(start_month: int):
    """Quarters and years of the fiscal year starting in `start_month` while inside."""
    saved = _FISCAL["start"]
    _FISCAL["start"] = start_month
    try:
        yield
    finally:
        _FISCAL["start"] = saved


def _months_back(month: int, grain: str) -> int:
    """Months from a month back to the start of its month, quarter or year."""
    if grain == "month":
        return 0
    return (month - _FISCAL["start"]) % MONTHS[grain]


def period_start_of(day: date, grain: str) -> date:
    """The first day of the `grain` period holding `day` (Python dates)."""
    if grain == "week":
        return day - timedelta(days=day.weekday())
    index = day.year * 12 + day.month - 1 - _months_back(day.month, grain)
    return date(index // 12, index % 12 + 1, 1)


def _start_expr(day: pl.Expr, grain: str) -> pl.Expr:
    if grain == "week":
        return day.dt.truncate("1w")
    if grain == "month":
        return day.dt.truncate("1mo")
    back = (day.dt.month().cast(pl.Int32) + 12 - _FISCAL["start"]) % MONTHS[grain]
    index = day.dt.year().cast(pl.Int32) * 12 + day.dt.month().cast(pl.Int32) - 1 - back
    return pl.date(index // 12, index % 12 + 1, 1)


def with_periods(frame: pl.DataFrame, day: str, grains=GRAINS) -> pl.DataFrame:
    """One copy of each row per grain, with the week (Monday), month, fiscal quarter or
    fiscal year that holds `day`."""
    return pl.concat(
        [
            frame.with_columns(
                period_grain=pl.lit(grain), period_start=_start_expr(pl.col(day), grain)
            )
            for grain in grains
        ]
    )


def with_scopes(
    frame: pl.DataFrame, location: str | None = "location_id", provider: str | None = None
) -> pl.DataFrame:
    """One copy per scope the row belongs to: practice always, its location and provider
    when it has one."""
    parts = [frame.with_columns(scope=pl.lit("practice"), scope_id=pl.lit("all"))]
    for scope, column in (("location", location), ("provider", provider)):
        if column is not None:
            parts.append(
                frame.filter(pl.col(column).is_not_null()).with_columns(
                    scope=pl.lit(scope), scope_id=pl.col(column)
                )
            )
    return pl.concat(parts)


def bucket(frame: pl.DataFrame, day: str, location="location_id", provider=None) -> pl.DataFrame:
    return with_scopes(with_periods(frame, day), location, provider)


def natural_end(start: pl.Expr, grain: pl.Expr) -> pl.Expr:
    """The period's natural last day."""
    end = start + pl.duration(days=6)
    for name, months in MONTHS.items():
        end = (
            pl.when(grain == name)
            .then(start.dt.offset_by(f"{months}mo") - pl.duration(days=1))
            .otherwise(end)
        )
    return end


def period_end(start: pl.Expr, grain: pl.Expr, as_of: date) -> pl.Expr:
    """The period's last day, shortened to the as-of date for the period that holds it."""
    return pl.min_horizontal(natural_end(start, grain), pl.lit(as_of))


def periods(first_day: date, as_of: date) -> pl.DataFrame:
    """Every period of every grain from the one holding `first_day` to the one holding
    as-of, with `period_end` = the (shortened) last day."""
    rows = []
    for grain in GRAINS:
        start = period_start_of(first_day, grain)
        while start <= as_of:
            rows.append((grain, start))
            if grain == "week":
                start += timedelta(days=7)
            else:
                index = start.year * 12 + start.month - 1 + MONTHS[grain]
                start = date(index // 12, index % 12 + 1, 1)
    frame = pl.DataFrame(
        rows, schema={"period_grain": pl.String, "period_start": pl.Date}, orient="row"
    )
    return frame.with_columns(
        period_end=period_end(pl.col("period_start"), pl.col("period_grain"), as_of)
    )


def ratio(num: pl.Expr, den: pl.Expr) -> pl.Expr:
    return pl.when(den == 0).then(None).otherwise(num / den)


def rows(frame: pl.DataFrame, kpi: str | pl.Expr, value, numerator=None, denominator=None):
    """The published long shape: KEYS, kpi, value, numerator, denominator."""
    kpi_expr = pl.lit(kpi) if isinstance(kpi, str) else kpi
    none = pl.lit(None, dtype=pl.Float64)
    return frame.select(
        *KEYS,
        kpi_expr.alias("kpi"),
        value.cast(pl.Float64).alias("value"),
        (none if numerator is None else numerator).cast(pl.Float64).alias("numerator"),
        (none if denominator is None else denominator).cast(pl.Float64).alias("denominator"),
    )


def flow(frame: pl.DataFrame, kpi: str, value: pl.Expr) -> pl.DataFrame:
    """A count or sum over the period: numerator = value, denominator null."""
    return rows(frame, kpi, value, value)
