"""Weekly scorecard: the office manager's Monday page.

Each card shows its row's one status (marts.kpi_status, the same the deck, digest and
alerts show); labels, units and directions come from the KPI catalog. Nothing here
judges a value."""

from __future__ import annotations

import math
from datetime import timedelta

import pandas as pd
import streamlit as st

from dashboards.access import current, policy
from dashboards.access.safe_text import md
from dashboards.app import components
from dashboards.app.bands import (
    STATUS_BADGE,
    band_text,
    delta_color,
    worst_first,
)
from dashboards.app.charts import bars
from dashboards.app.formatting import (
    NULL,
    SUPPRESSED,
    SUPPRESSED_REASON,
    fmt,
    fmt_delta,
    is_null,
    null_reason,
    suppressed_kpis,
)
from dashboards.data import query

GROUPS = {
    "Access and patient flow": [
        "completed_visits",
        "no_show_rate",
        "late_cancel_rate",
        "new_patient_lead_time_days",
        "schedule_utilization",
        "third_next_available_days",
        "lobby_wait_min_p50",
        "wait_for_provider_min_p50",
        "cycle_time_min_p50",
    ],
    "Productivity": [
        "work_rvus",
        "visits_per_provider_fte",
        "work_rvus_per_provider_fte",
        "new_patient_share",
    ],
    "Revenue cycle": [
        "gross_charges",
        "payments",
        "days_in_ar",
        "ar_over_90_share",
        "initial_denial_rate",
        "charge_lag_days",
    ],
    "Cost": [
        "operating_cost",
        "cost_per_visit",
        "labor_cost_per_visit",
        "overtime_share",
        "operating_margin_pct",
    ],
}
COST_KPIS = set(GROUPS["Cost"])
PAYER_DRIVEN = {"initial_denial_rate", "days_in_ar", "ar_over_90_share", "payments"}
CARDS_PER_ROW = 4  # readable on a 1366-pixel laptop and on a projector
SPARK_WEEKS = 13

f = components.selection()
week = f.current if f.grain == "week" else min(query.last_complete_week(), f.last_day)
week = week - timedelta(days=week.weekday())
components.header(
    "Weekly scorecard",
    f,
    f"Week of {week:%d %b %Y}: each KPI against its target band, the prior week and the "
    "4-week average, with 13 weeks of history.",
)
targets = components.targets()
catalog = query.catalog()
label = catalog.label
names = query.names()
first = week - timedelta(weeks=SPARK_WEEKS - 1)
scope, scope_id = f.scope
main_kpis = [k for kpis in GROUPS.values() for k in kpis if k not in COST_KPIS]
cost_scope, cost_id = f.cost_scope
# A physician reads no cost (docs/access.md): their scorecard leaves the cost cards out.
shows_costs = policy.may_see_costs(current())
groups = {group: kpis for group, kpis in GROUPS.items() if shows_costs or group != "Cost"}


def cost_series(start, end) -> list[pd.DataFrame]:
    if not shows_costs:
        return []
    return [query.kpi_series(sorted(COST_KPIS), "week", cost_scope, [cost_id], start, end)]


rows = pd.concat(
    [query.kpi_series(main_kpis, "week", scope, [scope_id], first, week), *cost_series(first, week)]
)
history = {kpi: part.set_index("period_start")["value"] for kpi, part in rows.groupby("kpi")}
judged = {
    row["kpi"]: row
    for row in rows[pd.to_datetime(rows["period_start"]) == pd.Timestamp(week)].to_dict("records")
}
hidden = suppressed_kpis(rows, week)

components.partial_sources_warning(week + timedelta(days=6))
if f.provider and shows_costs:
    st.info(
        "Cost KPIs have no provider scope; the cost cards show "
        + ("the location." if f.location else "the whole practice.")
    )


def card(kpi: str) -> dict:
    target = targets[kpi]
    unit, direction = catalog.unit(kpi), catalog.direction(kpi)
    row = judged.get(kpi, {})
    series = history.get(kpi, pd.Series(dtype=float))
    series.index = pd.to_datetime(series.index)
    now = series.get(pd.Timestamp(week))
    prior = series.get(pd.Timestamp(week - timedelta(weeks=1)))
    four = series[
        (series.index < pd.Timestamp(week))
        & (series.index >= pd.Timestamp(week - timedelta(weeks=4)))
    ]
    avg4 = four.mean() if four.notna().any() else None
    vs_prior = None if is_null(now) or is_null(prior) else now - prior
    vs_avg = None if is_null(now) or is_null(avg4) else now - avg4
    published = row.get("status")
    state = (
        "suppressed" if kpi in hidden else published if isinstance(published, str) else "no_target"
    )
    band = band_text(row.get("target_low"), row.get("target_high"), unit)
    source = {
        "budget": "the practice's budget",
        "specialty": "the published figure for the specialty",
        "configuration": "the practice's configuration",
        "default": target.source or "docs/kpi_targets.md",
    }.get(row.get("target_source"), "no source")
    reason = (
        null_reason(kpi)
        if kpi in history and pd.Timestamp(week) in series.index
        else "no activity this week (no published row)"
    )
    shown = SUPPRESSED if kpi in hidden else fmt(now, unit)
    with st.container(border=True):
        st.metric(
            label(kpi),
            shown,
            delta=fmt_delta(vs_prior, unit),
            delta_color=delta_color(direction),
            delta_description="vs prior week",
            chart_data=series.reindex(pd.date_range(first, week, freq="7D")).tolist(),
            help=(
                f"{SUPPRESSED_REASON}. "
                if kpi in hidden
                else f"{NULL}: {reason}. "
                if is_null(now)
                else ""
            )
            + f"Target: {band} ({source}).",
        )
        text, colour = STATUS_BADGE[state]
        avg_text = fmt_delta(vs_avg, unit) or NULL
        shown_band = f"target {band} · " if band != "no target" else ""
        st.markdown(f":{colour}-badge[{text}] :small[{shown_band}vs 4-week avg {avg_text}]")
    return {
        "kpi": kpi,
        "KPI": label(kpi),
        "value": now,
        "shown": shown,
        "band": band,
        "status": state,
        "gap": row.get("band_gap"),
        "prior_week": prior,
        "avg_4_weeks": avg4,
    }


summary = []
for group, kpis in groups.items():
    st.subheader(group)
    per_row = math.ceil(len(kpis) / math.ceil(len(kpis) / CARDS_PER_ROW))  # balanced rows
    for start in range(0, len(kpis), per_row):
        columns = st.columns(per_row)
        for column, kpi in zip(columns, kpis[start : start + per_row], strict=False):
            with column:
                summary.append(card(kpi))

st.divider()
st.subheader("Out of band, worst first")
table = pd.DataFrame(summary)
out = table[table["status"] == "out_of_band"].sort_values("gap", ascending=False)
if out.empty:
    st.success("Every KPI with a target is inside its band this week.")
for row in out.itertuples():
    left, mid, right = st.columns([3, 3, 2])
    left.markdown(f"**{row.KPI}**: {row.shown}")
    mid.markdown(f"target {row.band} · {row.gap:.0%} beyond the band edge")
    if right.button("Drill down", key=f"drill_{row.kpi}", icon=":material/zoom_in:"):
        st.session_state["drill"] = row.kpi

week_rows = pd.concat(
    [query.kpi_series(main_kpis, "week", scope, [scope_id], week, week), *cost_series(week, week)]
)
st.caption("This week's scorecard rows as published (value, numerator, denominator):")
components.downloads(week_rows, f"scorecard {scope} {scope_id} {week}")

drill = st.session_state.get("drill")
if drill in targets:
    unit = catalog.unit(drill)
    st.divider()
    st.subheader(f"Drill-down: {label(drill)}, week of {week:%d %b %Y}")
    descending = worst_first(catalog.direction(drill))
    for level in ("location", "provider"):
        if level == "provider" and drill in COST_KPIS:
            continue
        parts = query.kpi_breakdown(drill, "week", week, level)
        if level == "location" and f.location:
            parts = parts[parts["scope_id"] == f.location]
        parts = parts.sort_values("value", ascending=not descending, na_position="last")
        if parts.empty:
            continue
        top = parts.iloc[0]
        who = (
            "an anonymous peer"
            if top.scope_id == policy.PEER
            else names.location(top.scope_id)
            if level == "location"
            else names.provider(top.scope_id)
        )
        top_band = band_text(top.get("target_low"), top.get("target_high"), unit)
        st.markdown(f"Driving it: **{md(who)}** at {fmt(top.value, unit)} (target {top_band}).")
        shown = parts.assign(
            name=[
                "an anonymous peer" if i == policy.PEER else names.of(level, i)
                for i in parts["scope_id"]
            ],
            value=parts["value"].map(lambda v: fmt(v, unit)),
            status=[
                STATUS_BADGE[
                    "suppressed" if hidden_row else v if isinstance(v, str) else "no_target"
                ][0]
                for v, hidden_row in zip(
                    parts["status"],
                    parts["suppressed"] if "suppressed" in parts else [False] * len(parts),
                    strict=True,
                )
            ],
        )[["name", "value", "status"]].rename(columns={"name": level})
        left, right = st.columns(2)
        with left:
            components.table(
                shown,
                f"{label(drill)} by {level}",
                raw=parts,
                help_by_column={"value": f"{NULL}: {null_reason(drill)}"},
            )
        with right:
            components.chart(
                bars(
                    parts.dropna(subset=["value"]).assign(
                        name=[
                            "an anonymous peer" if i == policy.PEER else names.of(level, i)
                            for i in parts.dropna(subset=["value"])["scope_id"]
                        ]
                    ),
                    "name",
                    "value",
                    f"{label(drill)} by {level}, week of {week:%d %b}",
                    unit,
                    horizontal=True,
                ),
                parts,
                f"{label(drill)} by {level} chart",
            )
    if drill in PAYER_DRIVEN:
        location, provider = f.location, f.provider
        if drill == "initial_denial_rate":
            payers = query.first_responses_by_payer(
                week, week + timedelta(days=6), location, provider
            )
            name = "claims with a first payer response this week, by payer"
        else:
            payers = query.ar_by_payer(location, provider)
            name = "open A/R by payer (latest published balances)"
        components.table(payers, name.capitalize())
    if st.button("Close drill-down", key="drill_close"):
        st.session_state.pop("drill", None)
        st.rerun()
