"""The ledger's monthly non-labour expenses and the practice's monthly budget.

Expenses follow what drives them: rent and insurance the size of the site, supplies the
visits, utilities the weather. The budget is a plan made from the same drivers: the
site's usual visits per business day, its usual charge and collection per visit and its
usual payroll, shaped by the season, through December of the last year.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl

from pipelines.core.contracts import BUDGET_VOLUME_LINES, GL_ACCOUNTS
from pipelines.sample.calendar import MONTH_DEMAND, Span, business_days, month_end, months
from pipelines.sample.reference import LOCATIONS

_UTILITY_SEASON = np.array([1.35, 1.3, 1.1, 0.95, 0.9, 1.1, 1.3, 1.25, 1.0, 0.9, 1.0, 1.2])
BUDGET_GROWTH = 1.02


def _expected(frame: pl.DataFrame, first_year: int) -> pl.DataFrame:
    """Expected amount per GL account for rows of (month, providers, visits)."""
    years = pl.col("month").dt.year() - first_year
    season = (
        pl.col("month")
        .dt.month()
        .replace_strict(list(range(1, 13)), _UTILITY_SEASON.tolist(), return_dtype=pl.Float64)
    )
    vaccine_stock = pl.when(pl.col("month").dt.month().is_in([9, 10])).then(1.4).otherwise(1.0)
    return frame.with_columns(
        rent=(5000 + 1900 * pl.col("providers")) * 1.03**years,
        medical_supplies=6.0 * pl.col("visits") * vaccine_stock,
        office_supplies=0.9 * pl.col("visits") + 250,
        it_software=450.0 * pl.col("providers") + 700,
        insurance=900.0 * pl.col("providers") + 600,
        utilities=(900 + 180 * pl.col("providers")) * season,
        purchased_services=1800 + 95.0 * pl.col("providers") + 0.35 * pl.col("visits"),
        marketing=pl.lit(1400.0),
        other=pl.lit(850.0),
    )


def _round_to(expr: pl.Expr, step: int) -> pl.Expr:
    """Plans are made in round numbers."""
    return (expr / step).round(0) * step


def _providers_by_location(clinician_homes: pl.Series) -> pl.DataFrame:
    ids = [loc.location_id for loc in LOCATIONS]
    counts = np.bincount(clinician_homes.to_numpy(), minlength=len(ids))
    return pl.DataFrame({"location_id": ids, "providers": counts.astype(np.float64)})


def gl_expenses(
    rng: np.random.Generator, span: Span, clinician_homes: pl.Series, visits: pl.DataFrame
) -> pl.DataFrame:
    """Monthly actuals per location and account, from the first month through `end`'s."""
    grid = (
        pl.DataFrame({"month": months(span.start, span.end)})
        .join(_providers_by_location(clinician_homes), how="cross")
        .join(visits, on=["location_id", "month"], how="left")
        .with_columns(pl.col("visits").fill_null(0).cast(pl.Float64))
        .sort("month", "location_id")
    )
    expected = _expected(grid, span.start.year)
    noise = {
        "rent": (1.0, 1.0),
        "medical_supplies": (0.88, 1.12),
        "office_supplies": (0.8, 1.2),
        "it_software": (0.97, 1.05),
        "insurance": (1.0, 1.0),
        "utilities": (0.9, 1.1),
        "purchased_services": (0.9, 1.15),
        "marketing": (0.3, 1.8),
        "other": (0.35, 1.75),
    }
    long = expected.unpivot(
        index=["month", "location_id"], on=list(GL_ACCOUNTS), variable_name="account",
        value_name="amount",
    ).sort("month", "location_id", "account")  # fmt: skip
    low = long["account"].replace_strict({a: noise[a][0] for a in GL_ACCOUNTS})
    high = long["account"].replace_strict({a: noise[a][1] for a in GL_ACCOUNTS})
    factor = low.to_numpy() + rng.random(long.height) * (high.to_numpy() - low.to_numpy())
    return long.with_columns(
        month=pl.col("month").dt.strftime("%Y-%m"),
        amount=(pl.col("amount") * pl.Series(factor)).round(2),
    )


def labor_by_month(timesheets: pl.DataFrame, staff: pl.DataFrame) -> pl.DataFrame:
    """Payroll cost per home location and month, each period split by its days."""
    rows = timesheets.join(staff.select("employee_id", "location_id"), on="employee_id").select(
        "location_id",
        "pay_period_start",
        "pay_period_end",
        cost=pl.col("gross_pay") + pl.col("benefits_cost").fill_null(0),
    )
    first_month_end = pl.col("pay_period_start").dt.month_end()
    days_first = (
        pl.min_horizontal(first_month_end, "pay_period_end") - pl.col("pay_period_start")
    ).dt.total_days() + 1
    share_first = days_first / 14
    parts = pl.concat(
        [
            rows.select(
                "location_id",
                month=pl.col("pay_period_start").dt.truncate("1mo"),
                labor=pl.col("cost") * share_first,
            ),
            rows.select(
                "location_id",
                month=pl.col("pay_period_end").dt.truncate("1mo"),
                labor=pl.col("cost") * (1 - share_first),
            ),
        ]
    )
    return parts.group_by("location_id", "month").agg(pl.col("labor").sum())


def budget(
    span: Span,
    clinician_homes: pl.Series,
    actuals: pl.DataFrame,
    closed: np.ndarray,
) -> pl.DataFrame:
    """The monthly plan per location: data months and the rest of the last year.

    `actuals` holds location_id, month, visits, gross_charges, payments and labor for the
    months with history.
    """
    plan_months = months(span.start, date(span.end.year, 12, 31))
    open_days = pl.DataFrame(
        {
            "month": plan_months,
            "open_days": [
                business_days(m, month_end(m), closed) for m in plan_months
            ],
            "season": [float(MONTH_DEMAND[m.month - 1] / MONTH_DEMAND.mean()) for m in
                       plan_months],
        }
    )  # fmt: skip
    # Rates from whole months with history; collections lag charges, so skip two months.
    history = actuals.join(open_days, on="month").filter(pl.col("month") >= span.start)
    settled = history.filter(pl.col("month") >= pl.col("month").min().dt.offset_by("2mo"))
    if settled.is_empty():
        settled = history
    rates = (
        history.group_by("location_id")
        .agg(
            per_day=pl.col("visits").sum() / pl.col("open_days").sum(),
            charge_per_visit=pl.col("gross_charges").sum() / pl.col("visits").sum(),
            labor=pl.col("labor").mean(),
        )
        .join(
            settled.group_by("location_id").agg(
                collected_per_visit=pl.col("payments").sum() / pl.col("visits").sum()
            ),
            on="location_id",
            how="left",
        )
        .join(_providers_by_location(clinician_homes), on="location_id")
    )
    plan = (
        open_days.join(rates, how="cross")
        .with_columns(
            visits=(pl.col("per_day") * pl.col("open_days") * pl.col("season") * BUDGET_GROWTH)
            .round(0)
            .fill_nan(0)
        )
        .sort("month", "location_id")
    )
    plan = _expected(plan, span.start.year).with_columns(
        completed_visits="visits",
        gross_charges=_round_to(pl.col("visits") * pl.col("charge_per_visit"), 100),
        collections=_round_to(pl.col("visits") * pl.col("collected_per_visit").fill_null(0), 100),
        labor_cost=_round_to(pl.col("labor") * BUDGET_GROWTH, 100),
        **{a: _round_to(pl.col(a), 10) for a in GL_ACCOUNTS},
    )
    lines = (*BUDGET_VOLUME_LINES, *GL_ACCOUNTS)
    return (
        plan.unpivot(
            index=["month", "location_id"],
            on=list(lines),
            variable_name="line",
            value_name="amount",
        )  # fmt: skip
        .with_columns(pl.col("amount").fill_nan(0).fill_null(0))
        .sort("month", "location_id", "line")
        .with_columns(month=pl.col("month").dt.strftime("%Y-%m"))
    )
