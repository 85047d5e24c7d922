"""Periods, scopes and the long output shape of KPI_SPEC.md, shared by the oracle's domains."""

from __future__ import annotations

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


def with_periods(frame: pl.DataFrame, day: str) -> pl.DataFrame:
    """One copy of each row per grain, with the week (Monday) or month that holds `day`."""
    return pl.concat(
        [
            frame.with_columns(
                period_grain=pl.lit("week"), period_start=pl.col(day).dt.truncate("1w")
            ),
            frame.with_columns(
                period_grain=pl.lit("month"), period_start=pl.col(day).dt.truncate("1mo")
            ),
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


def period_end(start: pl.Expr, grain: pl.Expr, as_of: date) -> pl.Expr:
    """The period's last day, shortened to the as-of date for the period that holds it."""
    natural = (
        pl.when(grain == "week")
        .then(start + pl.duration(days=6))
        .otherwise(start.dt.offset_by("1mo") - pl.duration(days=1))
    )
    return pl.min_horizontal(natural, pl.lit(as_of))


def periods(first_day: date, as_of: date) -> pl.DataFrame:
    """Every week and month from the one holding `first_day` to the one holding as-of,
    with `period_end` = the (shortened) last day."""
    rows = []
    start = first_day - timedelta(days=first_day.weekday())
    while start <= as_of:
        rows.append(("week", start))
        start += timedelta(days=7)
    start = first_day.replace(day=1)
    while start <= as_of:
        rows.append(("month", start))
        start = (start + timedelta(days=32)).replace(day=1)
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
