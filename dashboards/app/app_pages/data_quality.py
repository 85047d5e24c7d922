"""Data quality: what arrived, what was kept aside and why, and how fresh each source is."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboards.app import components
from dashboards.app.charts import bars
from dashboards.data import query

f = components.selection()
components.header(
    "Data quality",
    f,
    "Every delivery with its counts, rejected rows with file and line, orphans, wait-time "
    "rule violations, unmatched CPT codes and the freshness of each source. Not filtered by "
    "period, location or provider.",
)
deliveries = query.dq_table("dq_deliveries")
rejected = query.dq_table("dq_rejected_rows")
# Refused files first: their rows are missing from every figure until they are fixed.
refused = deliveries[deliveries["status"] == "failed"].sort_values("received_at", ascending=False)
if not refused.empty:
    st.error(
        f"{len(refused)} file(s) or inbox entries were refused: nothing of them was loaded. "
        "Fix each at the source (or in the mapping, docs/mapping.md) and deliver it again."
    )
    components.table(
        refused[["received_at", "source", "file_name", "error"]], "Refused files", raw=refused
    )
columns = st.columns(4)
columns[0].metric("Files delivered", f"{len(deliveries):,}", border=True)
columns[1].metric("Rows received", f"{int(deliveries['rows_received'].sum()):,}", border=True)
columns[2].metric("Rows loaded", f"{int(deliveries['rows_loaded'].sum()):,}", border=True)
columns[3].metric("Rows rejected", f"{int(deliveries['rows_rejected'].sum()):,}", border=True)
unbalanced = deliveries[~deliveries["rows_balance"].fillna(False)]
failed = deliveries[deliveries["status"] != "loaded"]
if unbalanced.empty and failed.empty:
    st.success("Every delivery balances: rows received = rows loaded + rows rejected (+ filtered).")
else:
    st.error(f"{len(unbalanced)} deliveries do not balance and {len(failed)} failed; see below.")

st.subheader("Freshness of each source")
fresh = query.dq_table("dq_freshness")
components.table(
    fresh,
    "Freshness by source",
    help_by_column={
        "latest_data_date": "Newest business date in the data (a month's first day for "
        "ledger files)",
        "last_received_at": "When the newest file of this source arrived (UTC)",
    },
)

st.subheader("Deliveries")
components.table(
    deliveries[
        [
            "delivery_id",
            "source",
            "entity",
            "file_name",
            "received_at",
            "mode",
            "status",
            "rows_received",
            "rows_loaded",
            "rows_rejected",
            *[c for c in ("rows_filtered",) if c in deliveries.columns],
            "rows_duplicate_key",
            "error",
        ]
    ],
    "Deliveries with their counts",
    raw=deliveries,
)

st.subheader("Rejected rows")
reasons = query.dq_table("dq_rejected_by_reason")
left, right = st.columns(2)
with left:
    components.chart(
        bars(
            reasons.assign(what=reasons["entity"] + "." + reasons["column_name"]),
            "what",
            "rejections",
            "Rejected rows by entity and column (count)",
            None,
            horizontal=True,
        ),
        reasons,
        "rejections by column chart",
    )
with right:
    components.table(
        reasons[["entity", "column_name", "reason", "rejections", "files"]], "Rejections by reason"
    )
components.table(rejected, "Rejected rows with file and line")

st.subheader("Orphans")
components.table(
    query.dq_table("dq_orphans"),
    "Rows whose reference matches nothing",
    help_by_column={"missing_value": "The id that matches no row of the referenced entity"},
)

st.subheader("Remittance figures that are no claim movement")
remittance = query.dq_table("dq_remittance")
if remittance.empty:  # a practice whose payments come as CSV, not as X12 835 files
    st.caption("No X12 835 remittance reported a patient share or a provider-level adjustment.")
else:
    components.table(
        remittance,
        "835 provider-level adjustments (PLB) and patient responsibility (PR), with file and "
        "segment",
        height=300,
    )

st.subheader("Wait-time rule violations")
violations = query.dq_table("dq_wait_violations")
summary = (
    violations.groupby(["interval_kind", "violation_reason"], as_index=False)
    .size()
    .rename(columns={"size": "intervals"})
)
left, right = st.columns([2, 3])
with left:
    components.table(summary, "Wait-time violations by kind")
with right:
    components.table(violations, "Wait-time violations, one row per interval", height=300)

st.subheader("Unmatched CPT codes")
unmatched = query.dq_table("dq_unmatched_cpt")
codes = unmatched.groupby(["cpt_code", "modifier"], dropna=False, as_index=False).agg(
    charge_lines=("charge_id", "count"), units=("units", "sum")
)
left, right = st.columns([2, 3])
with left:
    components.table(
        codes.sort_values("charge_lines", ascending=False), "Codes with no work RVU (count 0 wRVU)"
    )
with right:
    components.table(unmatched, "Unmatched charge lines with file and line", height=300)
st.caption(f"Published state as of {pd.Timestamp(query.as_of()):%d %b %Y}.")
