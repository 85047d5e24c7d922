"""Access and patient flow: how easily patients get in, and how long they wait."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboards.access import Role, current, policy
from dashboards.app import components
from dashboards.app.charts import heatmap, over_time, peers
from dashboards.app.formatting import (
    NULL,
    SUPPRESSED,
    SUPPRESSED_REASON,
    fmt,
    label,
    null_reason,
    suppressed_kpis,
)
from dashboards.data import query

f = components.selection()
components.header(
    "Access and patient flow",
    f,
    "No-shows, late cancels, lead time, utilisation, third next available and waits.",
)
targets = components.targets()
scope, scope_id = f.scope
names = query.names()

RATES = ["no_show_rate", "late_cancel_rate"]
SINGLE = ["new_patient_lead_time_days", "schedule_utilization", "third_next_available_days"]
WAITS = ["lobby_wait_min", "wait_for_provider_min", "cycle_time_min"]
WAIT_KPIS = [f"{w}_{q}" for w in WAITS for q in ("p50", "p90")]
ALL = RATES + SINGLE + WAIT_KPIS

rows = query.kpi_series(ALL, f.grain, scope, [scope_id], f.start, f.current)
now = rows[rows["period_start"] == pd.Timestamp(f.current)].set_index("kpi")["value"]
hidden = suppressed_kpis(rows, f.current)


def why(kpi: str) -> str:
    """Why a headline card shows no number."""
    return SUPPRESSED_REASON if kpi in hidden else f"{NULL}: {null_reason(kpi)}"


columns = st.columns(4)
for column, kpi in zip(columns, RATES + SINGLE[:2], strict=False):
    value = now.get(kpi)
    column.metric(
        label(kpi),
        SUPPRESSED if kpi in hidden else fmt(value, targets[kpi].unit),
        border=True,
        help=f"Target: {targets[kpi].band_text()}" + (f". {why(kpi)}" if pd.isna(value) else ""),
    )


def trend(kpis: list[str], title: str, name: str) -> None:
    part = rows[rows["kpi"].isin(kpis)].assign(series=lambda d: d["kpi"].map(label))
    unit = targets[kpis[0]].unit
    band = (targets[kpis[0]].low, targets[kpis[0]].high) if len(kpis) == 1 else None
    components.chart(over_time(part, title, unit, series="series", band=band), part, name)


left, right = st.columns(2)
with left:
    trend(RATES, f"No-show and late-cancel rate by {f.grain}", "no-show and late-cancel rates")
with right:
    trend(["schedule_utilization"], f"Schedule utilisation by {f.grain}", "schedule utilisation")
left, right = st.columns(2)
with left:
    trend(
        ["new_patient_lead_time_days"],
        f"New-patient lead time by {f.grain} (days)",
        "new-patient lead time",
    )
with right:
    trend(
        ["third_next_available_days"],
        f"Third next available by {f.grain} (days)",
        "third next available",
    )

st.subheader("Waits: median and 90th percentile")
wait_columns = st.columns(3)
for column, wait in zip(wait_columns, WAITS, strict=True):
    with column:
        trend(
            [f"{wait}_p50", f"{wait}_p90"],
            f"{label(wait + '_p50').split(' (')[0]} (minutes)",
            f"{wait} median and p90",
        )

PEER_KPIS = ["no_show_rate", "late_cancel_rate", "new_patient_lead_time_days"] + [
    "third_next_available_days",
    "lobby_wait_min_p50",
    "wait_for_provider_min_p50",
    "cycle_time_min_p50",
]


def against_peers(provider: str) -> None:
    """The provider's access, wait and no-show KPIs among the other providers' values:
    for a physician the query layer hands back anonymous peers only, and no peer group
    at all where fewer than three providers have a value (policy.anonymous_peers)."""
    st.subheader(f"Against peers, {components.period_text(f)}")
    everyone = query.kpi_breakdown_window(PEER_KPIS, f.grain, f.current, f.current, "provider")
    columns = st.columns(3)
    for index, kpi in enumerate(PEER_KPIS):
        data = everyone[everyone["kpi"] == kpi].dropna(subset=["value"])
        others = data[data["scope_id"] != provider]
        with columns[index % 3], st.container(border=True):
            if others.empty:
                st.markdown(f"**{label(kpi)}**")
                st.caption("Too few peers with a value this period to show them anonymously.")
                continue
            st.caption(
                f"{label(kpi)}: peer median {fmt(others['value'].median(), targets[kpi].unit)}"
            )
            anonymous = data.assign(
                scope_id=data["scope_id"].where(data["scope_id"] == provider, policy.PEER)
            )
            components.chart(
                peers(data, provider, label(kpi), targets[kpi].unit, label="you" if own else None),
                anonymous,
                f"{label(kpi)} against peers",
                key=f"access_peers_{kpi}",
            )


own = current().role is Role.PHYSICIAN  # their own dot reads "you"
if f.provider:
    against_peers(f.provider)

st.subheader(f"By location and provider, {components.period_text(f)}")
for level in ("location", "provider"):
    part = query.kpi_breakdown_window(ALL, f.grain, f.current, f.current, level)
    # A physician's peers are anonymous values sorted per KPI: no row is one provider.
    part = part[part["scope_id"] != policy.PEER]
    if f.location and level == "location":
        part = part[part["scope_id"] == f.location]
    if part.empty:
        continue
    raw = part.pivot(index="scope_id", columns="kpi", values="value").reindex(columns=ALL)
    shown = pd.DataFrame(
        {label(k): raw[k].map(lambda v, k=k: fmt(v, targets[k].unit)) for k in ALL}
    )
    shown.insert(0, level, [names.of(level, i) for i in raw.index])
    components.table(
        shown,
        f"Access KPIs by {level}",
        raw=raw.reset_index().rename(columns={"scope_id": level}),
        help_by_column={label(k): f"{NULL}: {null_reason(k)}" for k in ALL},
    )

st.subheader("When do patients wait? Weekday × hour of the appointment")
if not policy.may_see_detail(current()):
    st.info("Built from visit detail, which is not available for your role.")
    st.stop()
catalog = query.catalog()
choice = st.radio(
    "Wait",
    WAITS,
    format_func=lambda w: catalog.label(w + "_p50"),
    horizontal=True,
    key="access_heat",
)
grid = query.wait_heatmap(f.start, f.last_day, f.location, f.provider)
components.chart(
    heatmap(grid, f"{choice}_p50", f"{label(choice + '_p50')} of completed visits, minutes"),
    grid,
    "waits by weekday and hour",
)
st.caption(
    "Each cell: median of the completed visits that started in that hour, over the "
    "whole window shown; the visits column in the download says how many."
)
