"""Cost, staffing, per-FTE and budget KPIs of KPI_SPEC.md (HR, payroll, ledger)."""

from __future__ import annotations

from datetime import date

import polars as pl

from tests.oracle.calendar_scopes import (
    KEYS,
    bucket,
    flow,
    period_end,
    period_start_of,
    periods,
    ratio,
    rows,
    with_scopes,
)

CLINICIAN_ROLES = ("physician", "nurse_practitioner", "physician_assistant")


def _spread(frame: pl.DataFrame, start: pl.Expr, end: pl.Expr, amounts: list[str], as_of):
    """Each row's amounts divided evenly over its days, days after as-of dropped."""
    days = (end - start).dt.total_days() + 1
    return (
        frame.with_columns(day=pl.date_ranges(start, end), _days=days)
        .explode("day")
        .with_columns([(pl.col(a) / pl.col("_days")).alias(a) for a in amounts])
        .filter(pl.col("day") <= as_of)
    )


def labor_days(lake, as_of: date) -> pl.DataFrame:
    sheets = lake.timesheets.join(
        lake.staff.select("employee_id", "location_id"), on="employee_id", how="left"
    ).with_columns(
        cost=pl.col("gross_pay") + pl.col("benefits_cost").fill_null(0),
    )
    return _spread(
        sheets,
        pl.col("pay_period_start"),
        pl.col("pay_period_end"),
        ["cost", "regular_hours", "overtime_hours"],
        as_of,
    )


def gl_days(lake, as_of: date) -> pl.DataFrame:
    month = pl.col("month")
    return _spread(
        lake.gl, month, month.dt.offset_by("1mo") - pl.duration(days=1), ["amount"], as_of
    )


def cost_kpis(lake, as_of: date, visits: pl.DataFrame, paid: pl.DataFrame):
    labor = (
        bucket(labor_days(lake, as_of), "day")
        .group_by(KEYS)
        .agg(
            labor=pl.col("cost").sum(),
            regular=pl.col("regular_hours").sum(),
            overtime=pl.col("overtime_hours").sum(),
        )
    )
    gl = bucket(gl_days(lake, as_of), "day").group_by(KEYS).agg(gl=pl.col("amount").sum())
    ot, reg = pl.col("overtime"), pl.col("regular")
    out = [
        flow(labor, "labor_cost", pl.col("labor")),
        rows(labor, "overtime_share", ratio(ot, reg + ot), ot, reg + ot),
        flow(gl, "non_labor_cost", pl.col("gl")),
    ]
    no_provider = pl.col("scope") != "provider"
    visits = visits.filter(no_provider)
    paid = paid.filter(no_provider)
    parts = (
        labor.select(*KEYS, "labor")
        .join(gl, on=KEYS, how="full", coalesce=True)
        .join(visits.with_columns(has_visits=True), on=KEYS, how="full", coalesce=True)
        .join(paid.with_columns(has_paid=True), on=KEYS, how="full", coalesce=True)
        .with_columns(
            has_labor=pl.col("labor").is_not_null(),
            has_gl=pl.col("gl").is_not_null(),
            labor=pl.col("labor").fill_null(0),
            gl=pl.col("gl").fill_null(0),
            completed=pl.col("completed").fill_null(0),
            payments=pl.col("payments").fill_null(0),
        )
        .with_columns(operating=pl.col("labor") + pl.col("gl"))
    )
    has = lambda *names: pl.any_horizontal([pl.col(f"has_{n}").fill_null(False) for n in names])  # noqa: E731
    op, c, p = pl.col("operating"), pl.col("completed"), pl.col("payments")
    margin = p - op
    out += [
        flow(parts.filter(has("labor", "gl")), "operating_cost", op),
        rows(parts.filter(has("labor", "gl", "visits")), "cost_per_visit", ratio(op, c), op, c),
        rows(
            parts.filter(has("labor", "visits")),
            "labor_cost_per_visit",
            ratio(pl.col("labor"), c),
            pl.col("labor"),
            c,
        ),
        flow(parts.filter(has("labor", "gl", "paid")), "operating_margin", margin),
        rows(
            parts.filter(has("labor", "gl", "paid")),
            "operating_margin_pct",
            ratio(margin, p),
            margin,
            p,
        ),
    ]
    return out


def _active(day: pl.Expr) -> pl.Expr:
    term = pl.col("termination_date")
    return (pl.col("hire_date") <= day) & (term.is_null() | (term >= day))


def staffing_kpis(lake, as_of: date, data_start: date) -> list[pl.DataFrame]:
    """Point-in-time staffing KPIs: a row per period from the data's start, in scopes
    with a staff member active on some day of the period."""
    calendar = periods(data_start, as_of).with_columns(
        first_day=pl.col("period_start"),
        days=(pl.col("period_end") - pl.col("period_start")).dt.total_days() + 1,
    )
    staff = lake.staff.with_columns(
        clinician=pl.col("role").is_in(CLINICIAN_ROLES),
    )
    crossed = with_scopes(calendar.join(staff, how="cross"), "location_id")
    end, first = pl.col("period_end"), pl.col("first_day")
    term = pl.col("termination_date")
    by = (
        crossed.group_by(KEYS)
        .agg(
            any_active=((pl.col("hire_date") <= end) & (term.is_null() | (term >= first))).any(),
            support=pl.col("fte").filter(_active(end) & ~pl.col("clinician")).sum(),
            provider=pl.col("fte")
            .filter(_active(end) & pl.col("clinician") & pl.col("provider_id").is_not_null())
            .sum(),
            head_first=_active(first).sum(),
            head_last=_active(end).sum(),
            leavers=(term.is_not_null() & (term >= first) & (term <= end)).sum(),
            days=pl.col("days").first(),
        )
        .filter(pl.col("any_active"))
    )
    s, p = pl.col("support"), pl.col("provider")
    exposure = (pl.col("head_first") + pl.col("head_last")) / 2 * pl.col("days") / 365
    return [
        rows(by, "support_staff_per_provider_fte", ratio(s, p), s, p),
        rows(
            by,
            "staff_turnover_rate",
            ratio(pl.col("leavers"), exposure),
            pl.col("leavers"),
            exposure,
        ),
    ]


def provider_fte_at(lake, calendar: pl.DataFrame) -> pl.DataFrame:
    """Provider FTE on each period's last day, per practice, staff home location and
    provider_id."""
    clinicians = lake.staff.filter(
        pl.col("role").is_in(CLINICIAN_ROLES) & pl.col("provider_id").is_not_null()
    )
    crossed = calendar.join(clinicians, how="cross").filter(_active(pl.col("period_end")))
    return (
        with_scopes(crossed, "location_id", "provider_id")
        .group_by(KEYS)
        .agg(fte=pl.col("fte").sum())
    )


def per_fte_kpis(lake, as_of: date, visits: pl.DataFrame, rvus: pl.DataFrame):
    keys = pl.concat([visits.select(KEYS), rvus.select(KEYS)]).unique()
    calendar = (
        keys.select("period_grain", "period_start")
        .unique()
        .with_columns(period_end=period_end(pl.col("period_start"), pl.col("period_grain"), as_of))
    )
    fte = provider_fte_at(lake, calendar)
    by = (
        keys.join(visits, on=KEYS, how="left")
        .join(rvus, on=KEYS, how="left")
        .join(fte, on=KEYS, how="left")
        .with_columns(pl.col("completed", "rvus").fill_null(0), pl.col("fte").fill_null(0))
    )
    f = pl.col("fte")
    has_visits = by.join(visits.select(KEYS), on=KEYS, how="semi")
    has_rvus = by.join(rvus.select(KEYS), on=KEYS, how="semi")
    return [
        rows(
            has_visits,
            "visits_per_provider_fte",
            ratio(pl.col("completed"), f),
            pl.col("completed"),
            f,
        ),
        rows(has_rvus, "work_rvus_per_provider_fte", ratio(pl.col("rvus"), f), pl.col("rvus"), f),
    ]


def budget_kpis(lake, as_of: date, actual_parts: dict[str, pl.DataFrame]) -> list[pl.DataFrame]:
    """Complete months only; practice = Σ location budgets against practice actuals."""
    budget = (
        lake.budget.with_columns(line=pl.col("line").str.strip_chars().str.to_lowercase())
        .filter(pl.col("month").dt.offset_by("1mo") - pl.duration(days=1) <= as_of)
        .select(
            period_grain=pl.lit("month"),
            period_start="month",
            location_id="location_id",
            line="line",
            amount="amount",
        )
    )
    budget = (
        with_scopes(budget, "location_id")
        .group_by([*KEYS, "line"])
        .agg(budget=pl.col("amount").sum())
    )
    gl_month = lake.gl.with_columns(
        line=pl.col("account").str.strip_chars().str.to_lowercase()
    ).select(
        period_grain=pl.lit("month"),
        period_start="month",
        location_id="location_id",
        line="line",
        actual="amount",
    )
    gl_actual = (
        with_scopes(gl_month, "location_id").group_by([*KEYS, "line"]).agg(pl.col("actual").sum())
    )
    volume = pl.concat(
        [
            frame.select(*KEYS, line=pl.lit(line), actual=pl.col(col).cast(pl.Float64))
            for line, (frame, col) in actual_parts.items()
        ]
    ).filter(pl.col("period_grain") == "month")
    actual = pl.concat([volume, gl_actual.select(*KEYS, "line", "actual")])
    months = budget.join(actual, on=[*KEYS, "line"], how="left").with_columns(
        pl.col("actual").fill_null(0),
        measured_through=pl.col("period_start").dt.offset_by("1mo") - pl.duration(days=1),
    )
    # A quarter or year sums the month rows of its complete months (year-to-date).
    sums = [
        months.with_columns(
            period_grain=pl.lit(grain),
            period_start=pl.col("period_start").map_elements(
                lambda d, grain=grain: period_start_of(d, grain), return_dtype=pl.Date
            ),
        )
        .group_by([*KEYS, "line"])
        .agg(pl.col("actual").sum(), pl.col("budget").sum(), pl.col("measured_through").max())
        for grain in ("quarter", "year")
    ]
    by = pl.concat([months, *sums], how="diagonal_relaxed")
    a, b = pl.col("actual"), pl.col("budget")
    out = rows(by, pl.lit("budget_variance_") + pl.col("line"), a - b, a, b)
    return [out.with_columns(by["measured_through"].alias("measured_through"))]
