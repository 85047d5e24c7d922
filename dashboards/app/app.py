"""The clinicops dashboards: `streamlit run dashboards/app/app.py` with CLINICOPS_HOME set
(`clinicops dashboard --home DIR` does both).

Every run starts with sign-in (`access.signin`) and binds the signed-in principal before
anything is read, so the query layer scopes every read of the run to it. The menu lists
the pages the role may open; a page outside the role is still routed, to a refusal, so a
typed or bookmarked URL is answered and audited rather than silently replaced.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from dashboards.access import AccessDenied, Principal, audit, policy, set_current, signin
from dashboards.access.auth import SecretsMissing
from dashboards.access.safe_text import md
from dashboards.app import filters
from dashboards.data import query
from pipelines.core.config import ConfigError, load_config
from pipelines.core.home import Home

PAGES_DIR = Path(__file__).parent / "app_pages"


@dataclass(frozen=True)
class Entry:
    section: str
    file: str
    title: str
    icon: str
    url_path: str
    allowed: Callable[[Principal], bool] | None = None  # a policy capability; None: all


ENTRIES = (
    Entry("Operations", "scorecard.py", "Weekly scorecard", ":material/fact_check:", ""),
    Entry("Operations", "access.py", "Access and patient flow", ":material/event_available:", "access"),  # noqa: E501
    Entry("Operations", "productivity.py", "Provider productivity", ":material/stethoscope:", "productivity", policy.may_see_providers),  # noqa: E501
    Entry("Finance", "revenue.py", "Revenue cycle", ":material/payments:", "revenue"),
    Entry("Finance", "cost.py", "Cost and staffing", ":material/groups:", "cost", policy.may_see_costs),  # noqa: E501
    Entry("Finance", "budget.py", "Budget planning", ":material/query_stats:", "budget", policy.may_see_costs),  # noqa: E501
    Entry("Data", "data_quality.py", "Data quality", ":material/rule:", "data-quality", policy.may_see_data_quality),  # noqa: E501
    Entry("Reports", "board_deck.py", "Board deck", ":material/slideshow:", "board-deck", policy.may_build_board_deck),  # noqa: E501
    Entry("Admin", "audit_log.py", "Audit log", ":material/policy:", "audit-log", policy.may_read_audit_log),  # noqa: E501
)  # fmt: skip


def _allowed(entry: Entry, principal: Principal) -> bool:
    return entry.allowed is None or entry.allowed(principal)


def _refused(**fields) -> None:
    """One access_denied record per refusal and session, however often it is re-run."""
    audit.record_once("access_denied", st.session_state.setdefault("_refusals", set()), **fields)


def _refuse_page(entry: Entry) -> None:
    _refused(page=entry.url_path or "scorecard", what="page")
    st.title(entry.title)
    st.warning("This page is not available for your role.")


def _menu(pages: list[tuple[Entry, st.Page]], principal: Principal) -> None:
    with st.sidebar:
        section = None
        for entry, page in pages:
            if not _allowed(entry, principal):
                continue
            if entry.section != section:
                section = entry.section
                st.caption(section)
            st.page_link(page)


def _record_view(entry: Entry, selection: filters.Filters) -> None:
    """One page_view per page and filter choice (not per rerun of the same view)."""
    view = {
        "page": entry.url_path or "scorecard",
        "filters": {
            "period": selection.period,
            "grain": selection.grain,
            "start": selection.start.isoformat(),
            "current": selection.current.isoformat(),
            "location": selection.location,
            "provider": selection.provider,
        },
    }
    if st.session_state.get("_audited_view") != view:
        audit.record("page_view", **view)
        st.session_state["_audited_view"] = view


def _refuse(exc: AccessDenied, page: str) -> None:
    _refused(page=page, what=str(exc))
    st.warning(f"Not available for your role: {md(exc)}")


st.set_page_config(page_title="clinicops", page_icon=":material/monitoring:", layout="wide")
set_current(None)  # nothing of a previous run on this thread may carry over
# Routing comes before sign-in: the browser learns which page its URL named in the first
# message, so a rerun that the sign-in cookie's component triggers stays on that page.
pages = [
    (
        entry,
        st.Page(
            PAGES_DIR / entry.file,
            title=entry.title,
            icon=entry.icon,
            url_path=entry.url_path or None,
            default=not entry.url_path,
        ),
    )
    for entry in ENTRIES
]
page = st.navigation([p for _, p in pages], position="hidden")
entry = next(e for e, p in pages if p.url_path == page.url_path)
try:
    home = Home(query.serving_path().parent)
    principal = signin.gate(home, load_config())
except (query.ServingMissing, ConfigError, SecretsMissing) as exc:
    st.error(f"The dashboard cannot start: {exc}")
    st.stop()
set_current(principal)
if principal.role is None:
    _refused(what="no role")
    st.warning("Your account has no role, so there is nothing to show. Ask an administrator.")
    st.stop()

_menu(pages, principal)
try:
    query.pin_published_state()
    selection = filters.sidebar()
except query.ServingMissing as exc:
    st.error(f"No published data to show: {exc}")
    st.stop()
except AccessDenied as exc:
    _refuse(exc, entry.url_path or "scorecard")
    st.stop()
st.session_state["filters"] = selection
_record_view(entry, selection)
if not _allowed(entry, principal):
    _refuse_page(entry)
    st.stop()
try:
    page.run()
except AccessDenied as exc:
    _refuse(exc, entry.url_path or "scorecard")
