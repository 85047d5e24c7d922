"""Provider productivity: one provider against the distribution of their peers."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboards.access.safe_text import md
from dashboards.app import components
from dashboards.app.charts import over_time, peers
from dashboards.app.formatting import NULL, fmt, label, null_reason
from dashboards.data import query

KPIS = [
    "completed_visits",
    "work_rvus",
    "visits_per_provider_fte",
    "work_rvus_per_provider_fte",
    "new_patient_share",
    "third_next_available_days",
]

f = components.selection()
components.header(
    "Provider productivity",
    f,
    "Visits, wRVUs, per-FTE output, new-patient share and panel access (third next "
    "available), against anonymised peers: peers are dots, never names.",
)
targets = components.targets()
directory = query.providers()
names = query.names()
options = list(directory["provider_id"])
if f.provider in options:
    provider = f.provider
    if len(options) > 1:  # a physician has only themselves: nothing to pick or clear
        st.caption(
            f"Provider from the sidebar filter: {md(names.provider(provider))}. "
            "Clear it there to pick another."
        )
else:
    provider = st.selectbox(
        "Provider",
        options,
        key="productivity_provider",
        format_func=lambda p: (
            f"{names.provider(p)} "
            f"({directory.set_index('provider_id').at[p, 'role'].replace('_', ' ')})"
        ),
    )
info = directory.set_index("provider_id").loc[provider]
st.markdown(
    f"**{md(names.provider(provider))}** · {md(info.role.replace('_', ' '))} · "
    f"{info.fte:.1f} FTE · "
    f"home location {md(names.location(info.home_location_id))}"
)

# The query layer narrows peers to the location before it judges the group, so a
# physician's peers stay anonymous and a group under 3 shows none.
everyone = query.kpi_breakdown_window(KPIS, f.grain, f.start, f.current, "provider")
peer_rows = everyone
if f.location:
    at_location = query.kpi_breakdown_window(
        KPIS, f.grain, f.start, f.current, "provider", f.location
    )
    peer_rows = pd.concat(
        [
            everyone[everyone["scope_id"] == provider],
            at_location[at_location["scope_id"] != provider],
        ]
    )
    st.caption(f"Peers: providers whose home location is {md(f.location)}.")
current = peer_rows[peer_rows["period_start"] == pd.Timestamp(f.current)]
mine = current[current["scope_id"] == provider].set_index("kpi")["value"]
peer_median = current[current["scope_id"] != provider].groupby("kpi")["value"].median()

columns = st.columns(3)
for index, kpi in enumerate(KPIS):
    unit = targets[kpi].unit
    value = mine.get(kpi)
    median = peer_median.get(kpi)
    with columns[index % 3], st.container(border=True):
        st.metric(
            label(kpi),
            fmt(value, unit),
            help=(f"{NULL}: {null_reason(kpi)}. " if pd.isna(value) else "")
            + f"Target: {targets[kpi].band_text()}.",
        )
        band = f" · target {targets[kpi].band_text()}" if targets[kpi].has_band else ""
        st.caption(f"Peer median {fmt(median, unit)}{band} · {components.period_text(f)}")
        data = current[current["kpi"] == kpi].dropna(subset=["value"])
        anonymous = data.assign(
            scope_id=data["scope_id"].where(data["scope_id"] == provider, "peer")
        )
        components.chart(
            peers(data, provider, f"{provider} among peers", unit),
            anonymous,
            f"{label(kpi)} against peers",
            key=f"peers_{kpi}",
        )

st.subheader("Over time, against the peer median")
trend_kpi = st.radio(
    "KPI", KPIS, format_func=query.catalog().label, horizontal=True, key="productivity_trend"
)
series = peer_rows[peer_rows["kpi"] == trend_kpi]
own = series[series["scope_id"] == provider].assign(series=names.provider(provider))
median = (
    series[series["scope_id"] != provider]
    .groupby("period_start", as_index=False)["value"]
    .median()
    .assign(series="peer median")
)
both = pd.concat([own[["period_start", "value", "series"]], median])
target = targets[trend_kpi]
components.chart(
    over_time(
        both,
        f"{label(trend_kpi)} by {f.grain}: {provider} and peer median",
        target.unit,
        series="series",
        band=(target.low, target.high),
    ),
    both,
    f"{label(trend_kpi)} trend",
)
