"""The clinicops dashboards: `streamlit run dashboards/app.py` with CLINICOPS_HOME set
(`clinicops dashboard --home DIR` does both)."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from dashboards import filters, query

PAGES_DIR = Path(__file__).parent / "app_pages"

st.set_page_config(page_title="clinicops", page_icon=":material/monitoring:", layout="wide")

PAGES = {
    "Operations": [
        st.Page(
            PAGES_DIR / "scorecard.py",
            title="Weekly scorecard",
            icon=":material/fact_check:",
            default=True,
        ),
        st.Page(
            PAGES_DIR / "access.py",
            title="Access and patient flow",
            icon=":material/event_available:",
            url_path="access",
        ),
        st.Page(
            PAGES_DIR / "productivity.py",
            title="Provider productivity",
            icon=":material/stethoscope:",
            url_path="productivity",
        ),
    ],
    "Finance": [
        st.Page(
            PAGES_DIR / "revenue.py",
            title="Revenue cycle",
            icon=":material/payments:",
            url_path="revenue",
        ),
        st.Page(
            PAGES_DIR / "cost.py",
            title="Cost and staffing",
            icon=":material/groups:",
            url_path="cost",
        ),
        st.Page(
            PAGES_DIR / "budget.py",
            title="Budget planning",
            icon=":material/query_stats:",
            url_path="budget",
        ),
    ],
    "Data": [
        st.Page(
            PAGES_DIR / "data_quality.py",
            title="Data quality",
            icon=":material/rule:",
            url_path="data-quality",
        ),
    ],
}

page = st.navigation(PAGES)
try:
    st.session_state["filters"] = filters.sidebar()
except query.ServingMissing as exc:
    st.error(f"No published data to show: {exc}")
    st.stop()
page.run()
