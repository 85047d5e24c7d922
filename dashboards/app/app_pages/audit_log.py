"""The audit log, for administrators: who signed in, viewed, downloaded and built what,
newest first, and whether the chain of records is intact."""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from dashboards.access import audit, current, policy
from dashboards.access.principal import AccessDenied
from dashboards.app import components
from dashboards.data import query

if not policy.may_read_audit_log(current()):
    raise AccessDenied("the audit log is for administrators only")

home = query.serving_path().parent
st.title("Audit log")
st.caption(
    f"Every sign-in, page view with its filters, download, deck build and refusal, from "
    f"{audit.log_path(home)}. Not filtered by period, location or provider."
)
verdict = audit.verify(home)
if verdict.ok:
    st.success(f"The log is intact: {verdict.records:,} records, each chained to the one before.")
else:
    st.error(f"The log was changed after it was written: {verdict.problem}.")

records = pd.DataFrame(audit.read(home, limit=5000))
if records.empty:
    st.info("Nothing recorded yet.")
    st.stop()
events = sorted(records["event"].unique())
chosen = st.multiselect("Events", events, default=events)
users = sorted(records["user"].dropna().unique())
who = st.multiselect("Users", users, placeholder="Every user")
shown = records[records["event"].isin(chosen)]
if who:
    shown = shown[shown["user"].isin(who)]
shown = shown.drop(columns=["prev", "hash"]).map(
    lambda v: json.dumps(v) if isinstance(v, dict | list) else v
)
components.table(shown, "Audit records (newest first, up to 5,000)")
