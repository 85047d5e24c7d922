"""Budget planning: actual against budget, a run-rate forecast of the year, and a what-if.

The forecast and the what-if's baseline are dbt models (marts.kpi_forecast,
marts.whatif_baseline); dashboards/app/planning.py only applies a user's scenario to the
baseline. This page states both methods.
"""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from dashboards.access import current, policy
from dashboards.access.safe_text import md
from dashboards.app import components, planning
from dashboards.app.bands import delta_color
from dashboards.app.charts import bars, forecast
from dashboards.app.formatting import fmt, line_label
from dashboards.data import query
from dashboards.data.catalog import currency

# Forecast line (published KPI) -> its budget line; labels and units from the KPI catalog.
LINES = {
    "completed_visits": "completed_visits",
    "gross_charges": "gross_charges",
    "payments": "collections",
    "labor_cost": "labor_cost",
    "operating_cost": None,
}
# What-if outcome (dashboards/planning.outcome) -> the KPI it is a figure of.
OUTCOME_KPIS = {
    "visits": "completed_visits",
    "collections": "payments",
    "operating_cost": "operating_cost",
    "cost_per_visit": "cost_per_visit",
    "operating_margin": "operating_margin",
}

f = components.selection()
components.header(
    "Budget planning",
    f,
    "Actual against budget by month and line, a run-rate forecast of the year with its "
    "interval, and a what-if panel. Month grain; practice or location scope.",
)
if f.provider:
    st.info("Budgets are kept by location: this page ignores the provider filter.")
scope, scope_id = f.cost_scope
as_of = query.as_of()
complete = [
    m for m in query.period_starts("month") if m + pd.offsets.MonthEnd(0) <= pd.Timestamp(as_of)
]
last_complete = complete[-1]
year = as_of.year

st.subheader(f"Actual against budget, {year}")
variance = query.kpi_like(
    "budget_variance_", "month", scope, [scope_id], date(year - 1, 1, 1), last_complete
)
variance = variance.assign(
    line=variance["kpi"].str.removeprefix("budget_variance_"),
    actual=variance["numerator"],
    budget=variance["denominator"],
    variance=variance["value"],
)
this_year = variance[pd.to_datetime(variance["period_start"]).dt.year == year]
lines = sorted(
    this_year["line"].unique(),
    key=lambda v: (v not in ("completed_visits", "gross_charges", "collections", "labor_cost"), v),
)
line = st.selectbox("Budget line", lines, format_func=query.catalog().line_label, key="budget_line")
one = this_year[this_year["line"] == line]
unit = "visits" if line == "completed_visits" else "money"
pairs = one[["period_start", "actual", "budget"]].melt(id_vars=["period_start"], var_name="series")
left, right = st.columns([3, 2])
with left:
    components.chart(
        bars(
            pairs,
            "period_start",
            "value",
            f"{line_label(line)}: actual and "
            f"budget by month ({'visits' if unit == 'visits' else currency()})",
            unit,
            color="series",
        ).update_layout(barmode="group"),
        one[["period_start", "line", "actual", "budget", "variance"]],
        f"{line} actual vs budget",
    )
with right:
    totals = this_year.groupby("line", as_index=False)[["actual", "budget", "variance"]].sum()
    line_units = totals["line"].map(lambda v: "visits" if v == "completed_visits" else "money")
    shown = totals.assign(line=totals["line"].map(line_label))
    for column in ("actual", "budget", "variance"):
        shown[column] = [fmt(v, u) for v, u in zip(totals[column], line_units, strict=True)]
    components.table(
        shown,
        f"Year to date by line, {year} (complete months)",
        raw=totals,
        help_by_column={
            "variance": "actual − budget; for costs a positive variance is an overspend"
        },
    )
monthly = this_year[["period_start", "line", "actual", "budget", "variance"]].sort_values(
    ["line", "period_start"]
)
# One table holds visits and money lines: each row is written in its own line's unit.
monthly_units = monthly["line"].map(lambda v: "visits" if v == "completed_visits" else "money")
monthly_shown = monthly.assign(line=monthly["line"].map(line_label))
for column in ("actual", "budget", "variance"):
    monthly_shown[column] = [fmt(v, u) for v, u in zip(monthly[column], monthly_units, strict=True)]
components.table(
    monthly_shown,
    f"Actual vs budget by month and line, {year}",
    raw=monthly,
    height=300,
)

st.subheader(f"Run-rate forecast of {year}")
st.markdown(
    "**Method.** Year total = the complete months of the year as published + each month left "
    "× the run rate (the mean of the last 3 complete months). The 95% interval assumes each "
    "month left deviates from the run rate independently, with the standard deviation of "
    "the last 12 complete months: ± 1.96 × sd × √(months left). No seasonality or growth is "
    "assumed; the as-of month is forecast whole because its published value is partial."
)
catalog = query.catalog()
kpi = st.radio(
    "Line", list(LINES), format_func=catalog.label, horizontal=True, key="budget_forecast_line"
)
choice, budget_line, line_unit = catalog.label(kpi), LINES[kpi], catalog.unit(kpi)
result, projected = query.forecast(kpi, scope, scope_id)
if result is None:
    st.info("No complete month to forecast from yet.")
else:
    year_start = pd.Timestamp(result["year_start"]).date()
    history = query.kpi_series(
        [kpi], "month", scope, [scope_id], year_start, result["last_complete_month"]
    )
    actual = pd.DataFrame(
        {
            "month": [pd.Timestamp(v).date() for v in history["period_start"]],
            "value": history["value"].to_numpy(),
        }
    )
    projected["month"] = [pd.Timestamp(v).date() for v in projected["month"]]
    budget = None
    if budget_line:
        known = this_year[this_year["line"] == budget_line]
        budget = pd.DataFrame(
            {
                "month": [pd.Timestamp(v).date() for v in known["period_start"]],
                "value": known["budget"],
            }
        )
    left, right = st.columns([3, 1])
    with left:
        download = pd.concat(
            [actual.assign(kind="actual"), projected.assign(kind="forecast")]
            + ([budget.assign(kind="budget")] if budget is not None else [])
        )
        components.chart(
            forecast(
                actual,
                projected,
                budget,
                f"{choice}, {year}: actual, run-rate forecast and budget by month",
                line_unit,
            ),
            download,
            f"{choice} forecast {year}",
        )
    with right:
        interval = (
            f"{fmt(result['forecast_low'], line_unit)} – {fmt(result['forecast_high'], line_unit)}"
        )
        st.metric(
            f"{choice}: {year} forecast",
            fmt(result["forecast"], line_unit),
            border=True,
            help=f"95% interval {interval}",
        )
        st.markdown(
            f"95% interval **{interval}**  \n"
            f"Year to date {fmt(result['year_to_date'], line_unit)} · run rate "
            f"{fmt(result['run_rate'], line_unit)} a month · {result['months_left']} months left"
        )
        if budget is not None and not budget.empty:
            st.caption(
                f"Budget for the complete months: {fmt(budget['value'].sum(), line_unit)}. "
                "Budgets for months not yet complete are not in the published data."
            )

st.subheader("What if?")
if not policy.may_see_detail(current()):  # its collection yields come from claim detail
    st.info("Built from claim detail, which is not available for your role.")
    st.stop()
published, classes = query.whatif_baseline(scope, scope_id)
if published is None or not published["provider_fte"] or published["no_show_rate"] is None:
    st.info("No twelve complete months with visits and provider FTE to start from yet.")
    st.stop()
window_start, last_complete = published["window_start"], published["window_end"]
base = planning.Baseline(
    visits=published["visits"],
    collections=published["collections"],
    labor_cost=published["labor_cost"],
    non_labor_cost=published["non_labor_cost"],
    provider_fte=published["provider_fte"],
    no_show_rate=published["no_show_rate"],
    charges_by_class=dict(zip(classes["financial_class"], classes["gross_charges"], strict=True)),
    payments_by_class=dict(zip(classes["financial_class"], classes["payments"], strict=True)),
)
left, right = st.columns([2, 3])
with left:
    fte_change = st.number_input(
        "Provider FTE to add (negative to remove)", -5.0, 10.0, 0.0, 0.1, key="whatif_fte"
    )
    no_show = st.slider(
        "No-show rate",
        0.0,
        30.0,
        round(base.no_show_rate * 100, 1),
        0.5,
        format="%.1f%%",
        key="whatif_noshow",
    )
    payer_class = st.selectbox("Payer class", sorted(base.charges_by_class), key="whatif_class")
    mix_points = st.slider(
        f"Change {payer_class} share of charges (points)", -20.0, 20.0, 0.0, 1.0, key="whatif_mix"
    )
    fee_pct = st.slider(f"Change {payer_class} fees (%)", -20.0, 20.0, 0.0, 1.0, key="whatif_fee")
unchanged = abs(no_show - round(base.no_show_rate * 100, 1)) < 1e-9
scenario = planning.Scenario(
    fte_change=fte_change,
    no_show_rate=None if unchanged else no_show / 100,
    mix_class=payer_class,
    mix_change_pts=mix_points,
    fee_changes={payer_class: fee_pct / 100},
)
before = planning.outcome(base, planning.Scenario())
after = planning.outcome(base, scenario)
units = {key: catalog.unit(k) for key, k in OUTCOME_KPIS.items()}
names = {key: catalog.label(k) for key, k in OUTCOME_KPIS.items()}
with right:
    st.markdown(
        f"**Over a year like the {published['months']} baseline months, with the changes on "
        "the left**"
    )
    cols = st.columns(3)
    for index, key in enumerate(units):
        change = after[key] - before[key]
        cols[index % 3].metric(
            names[key],
            fmt(after[key], units[key]),
            delta=f"{'+' if change >= 0 else '-'}{fmt(abs(change), units[key])}",
            delta_color=delta_color(catalog.direction(OUTCOME_KPIS[key])),
            border=True,
        )
    effect = pd.DataFrame(
        {
            "measure": list(names.values()),
            "baseline": list(before.values()),
            "scenario": list(after.values()),
        }
    )
    effect["change"] = effect["scenario"] - effect["baseline"]
    components.downloads(effect, "what-if effect")
where = md(query.names().location(scope_id)) if scope == "location" else "whole practice"
st.markdown(
    f"**Assumptions.** Baseline = the {published['months']} complete months "
    f"{window_start:%b %Y} – {last_complete:%b %Y} as published ({where}): "
    f"{fmt(base.visits, 'visits')} visits, {fmt(base.collections, 'money')} collections, "
    f"provider FTE {base.provider_fte:.1f} and no-show rate {base.no_show_rate:.1%} "
    f"(both from {last_complete:%b %Y}).  \n"
    "- Visits scale with provider FTE at today's visits per FTE, and with the kept share of "
    "booked visits (1 − no-show rate); demand is assumed to be there.  \n"
    "- Collections per visit follow the payer mix through each class's collections per "
    "charge dollar over the baseline months; a fee change moves that class's collections "
    "by the same %.  \n"
    "- Each provider FTE added brings labour cost at today's labour cost per provider FTE "
    "(their support staff included); non-labour cost stays as it is.  \n"
    "- Not a KPI: planning arithmetic on the published numbers."
)
