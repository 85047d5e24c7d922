"""Cost and staffing: what running the practice costs, per visit, and who does the work."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboards.app import components
from dashboards.app.charts import over_time, stacked
from dashboards.app.formatting import (
    NULL,
    SUPPRESSED,
    SUPPRESSED_REASON,
    fmt,
    label,
    line_label,
    null_reason,
    suppressed_kpis,
)
from dashboards.data import query
from dashboards.data.catalog import currency

KPIS = [
    "operating_cost",
    "labor_cost",
    "non_labor_cost",
    "cost_per_visit",
    "labor_cost_per_visit",
    "overtime_share",
    "support_staff_per_provider_fte",
    "staff_turnover_rate",
    "operating_margin",
    "operating_margin_pct",
]

f = components.selection()
components.header(
    "Cost and staffing",
    f,
    "Operating cost, cost per visit, labour, overtime, support staff per provider FTE, "
    "turnover, and non-labour cost by GL account.",
)
if f.provider:
    st.info(
        "Cost KPIs have no provider scope: this page shows "
        + ("the selected location." if f.location else "the whole practice.")
    )
components.partial_sources_warning(f.last_day)
targets = components.targets()
scope, scope_id = f.cost_scope
rows = query.kpi_series(KPIS, f.grain, scope, [scope_id], f.start, f.current)
now = rows[rows["period_start"] == pd.Timestamp(f.current)].set_index("kpi")["value"]
hidden = suppressed_kpis(rows, f.current)


def why(kpi: str) -> str:
    """Why a headline card shows no number."""
    return SUPPRESSED_REASON if kpi in hidden else f"{NULL}: {null_reason(kpi)}"


columns = st.columns(5)
for column, kpi in zip(
    columns,
    [
        "operating_cost",
        "cost_per_visit",
        "labor_cost_per_visit",
        "overtime_share",
        "support_staff_per_provider_fte",
    ],
    strict=True,
):
    value = now.get(kpi)
    column.metric(
        label(kpi),
        SUPPRESSED if kpi in hidden else fmt(value, targets[kpi].unit),
        border=True,
        help=(f"{why(kpi)}. " if pd.isna(value) else "") + f"Target: {targets[kpi].band_text()}.",
    )


def trend(kpis: list[str], title: str, name: str, kind: str = "line") -> None:
    part = rows[rows["kpi"].isin(kpis)].assign(series=lambda d: d["kpi"].map(label))
    target = targets[kpis[0]]
    band = (target.low, target.high) if len(kpis) == 1 else None
    components.chart(
        over_time(part, title, target.unit, series="series", band=band, kind=kind), part, name
    )


left, right = st.columns(2)
with left:
    split = rows[rows["kpi"].isin(["labor_cost", "non_labor_cost"])].assign(
        part=lambda d: d["kpi"].map(label)
    )
    components.chart(
        stacked(
            split,
            "period_start",
            "value",
            "part",
            f"Operating cost by {f.grain}: labour and non-labour ({currency()})",
            "money",
        ),
        split,
        "operating cost split",
    )
with right:
    trend(
        ["cost_per_visit", "labor_cost_per_visit"],
        f"Cost per completed visit by {f.grain} ({currency()})",
        "cost per visit",
    )
left, right = st.columns(2)
with left:
    trend(["overtime_share"], f"Overtime share of hours worked by {f.grain}", "overtime share")
with right:
    trend(
        ["support_staff_per_provider_fte"],
        f"Support staff FTE per provider FTE at each {f.grain} end",
        "support staff ratio",
    )
left, right = st.columns(2)
with left:
    trend(["staff_turnover_rate"], f"Staff turnover, annualised, by {f.grain}", "turnover")
with right:
    trend(
        ["operating_margin"],
        f"Operating margin (payments − operating cost) by {f.grain} ({currency()})",
        "operating margin",
        kind="bar",
    )

st.subheader("Non-labour cost by GL account, by month")
accounts = query.non_labor_by_account(f.start.replace(day=1), f.last_day, f.location)
if accounts.empty:
    st.info(
        "No complete month in this window: GL actuals by account are published for "
        "complete months. Choose a month or quarter period for a longer view."
    )
else:
    components.chart(
        stacked(
            accounts.assign(account=accounts["account"].map(line_label)),
            "period_start",
            "actual",
            "account",
            f"Non-labour cost by GL account, complete months ({currency()})",
            "money",
        ),
        accounts,
        "non-labour cost by account",
    )
