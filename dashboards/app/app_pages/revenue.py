"""Revenue cycle: A/R, aging, denials, collections, charge lag and payer mix."""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import streamlit as st

from dashboards.access import current, policy
from dashboards.app import components
from dashboards.app.charts import bars, over_time, stacked
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
from dashboards.data.catalog import currency

AGING = [
    "ar_aging_0_30",
    "ar_aging_31_60",
    "ar_aging_61_90",
    "ar_aging_91_120",
    "ar_aging_over_120",
]
TRENDS = [
    "ar_balance",
    "days_in_ar",
    "ar_over_90_share",
    "initial_denial_rate",
    "charge_lag_days",
    "payments",
    "gross_charges",
]
COLLECTION_MONTHS = 24

f = components.selection()
components.header(
    "Revenue cycle",
    f,
    "A/R and its aging, denials by reason and payer, net collection rate by service month, "
    "charge lag and payer mix, with a drill to payer × CPT.",
)
targets = components.targets()
scope, scope_id = f.scope
rows = query.kpi_series(TRENDS, f.grain, scope, [scope_id], f.start, f.current)
now = rows[rows["period_start"] == pd.Timestamp(f.current)].set_index("kpi")["value"]
hidden = suppressed_kpis(rows, f.current)


def why(kpi: str) -> str:
    """Why a headline card shows no number."""
    return SUPPRESSED_REASON if kpi in hidden else f"{NULL}: {null_reason(kpi)}"


columns = st.columns(5)
for column, kpi in zip(
    columns,
    ["ar_balance", "days_in_ar", "ar_over_90_share", "initial_denial_rate", "charge_lag_days"],
    strict=True,
):
    value = now.get(kpi)
    column.metric(
        label(kpi),
        SUPPRESSED if kpi in hidden else fmt(value, targets[kpi].unit),
        border=True,
        help=(f"{why(kpi)}. " if pd.isna(value) else "")
        + f"Target: {targets[kpi].band_text()}. At the period's last day.",
    )


def trend(kpi: str, title: str) -> None:
    part = rows[rows["kpi"] == kpi]
    target = targets[kpi]
    components.chart(
        over_time(part, title, target.unit, band=(target.low, target.high)), part, label(kpi)
    )


left, right = st.columns(2)
with left:
    trend("ar_balance", f"A/R balance at the end of each {f.grain} ({currency()})")
with right:
    trend("days_in_ar", f"Days in A/R at the end of each {f.grain}")

aging = query.kpi_like("ar_aging_", f.grain, scope, [scope_id], f.start, f.current)
aging = aging.assign(bucket=aging["kpi"].map(label))
left, right = st.columns(2)
with left:
    components.chart(
        stacked(
            aging,
            "period_start",
            "value",
            "bucket",
            f"A/R by age at each {f.grain} end ({currency()})",
            "money",
            order=[label(k) for k in AGING],
        ),
        aging,
        "A/R aging buckets",
    )
with right:
    trend("ar_over_90_share", f"Share of A/R over 90 days by {f.grain}")

st.subheader("Denials")
denial_start = f.start
denial_end = f.last_day
left, right = st.columns(2)
with left:
    trend("initial_denial_rate", f"Initial denial rate by {f.grain}")
# Denials by reason and payer and the payer × CPT drill read claim detail, which the
# board does not (docs/access.md); the KPI rows around them it does.
detail_shown = policy.may_see_detail(current())
NOT_FOR_ROLE = "Built from claim detail, which is not available for your role."
with right:
    if detail_shown:
        reasons = query.denials_by_reason(denial_start, denial_end, f.location, f.provider)
        top = reasons.head(12).assign(
            reason_text=lambda d: d["carc_code"] + " " + d["reason"].str.slice(0, 40)
        )
        components.chart(
            bars(
                top,
                "reason_text",
                "denials",
                "Denials by CARC reason (count)",
                None,
                horizontal=True,
            ),
            reasons,
            "denials by CARC reason",
        )
    else:
        st.info(NOT_FOR_ROLE)
if detail_shown:
    payers = query.first_responses_by_payer(denial_start, denial_end, f.location, f.provider)
    components.table(
        payers,
        "Claims first answered in the window, by payer",
        help_by_column={"claims_denied": "Claims whose first payer response included a denial"},
    )

st.subheader("Collections")
left, right = st.columns(2)
with left:
    cohort_end = f.last_day
    cohort_start = cohort_end - timedelta(days=31 * COLLECTION_MONTHS)
    ncr = query.kpi_series(
        ["net_collection_rate"], "month", scope, [scope_id], cohort_start, cohort_end
    )
    target = targets["net_collection_rate"]
    components.chart(
        over_time(
            ncr,
            "Net collection rate by service month",
            "share",
            kind="bar",
            band=(target.low, target.high),
        ),
        ncr,
        "net collection rate by service month",
    )
    st.caption("Shown for service months that ended at least 90 days before the as-of date.")
with right:
    trend("charge_lag_days", f"Charge lag, median days from service to posting, by {f.grain}")

mix = query.kpi_like("payer_mix_", f.grain, scope, [scope_id], f.start, f.current)
mix = mix.assign(financial_class=mix["kpi"].str.removeprefix("payer_mix_").str.replace("_", " "))
components.chart(
    stacked(
        mix,
        "period_start",
        "value",
        "financial_class",
        f"Payer mix: share of gross charges by financial class, by {f.grain}",
        "share",
    ),
    mix,
    "payer mix",
)

st.subheader("Drill: payer × CPT")
if not detail_shown:
    st.info(NOT_FOR_ROLE)
    st.stop()
detail = query.charges_by_payer_cpt(f.start, f.last_day, f.location, f.provider)
names = ["All payers", *sorted(detail["payer_name"].unique())]
payer = st.selectbox("Payer", names, key="revenue_payer")
if payer != "All payers":
    detail = detail[detail["payer_name"] == payer]
shown = detail.assign(gross_charges=detail["gross_charges"].map(lambda v: fmt(v, "money")))
components.table(shown, "Charges by payer and CPT code in the window", raw=detail, height=360)
