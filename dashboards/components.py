"""Building blocks every page uses: a table or chart with its CSV and XLSX downloads,
and the page header that says which published state and filters it shows."""

from __future__ import annotations

import io
import re
import threading
import time
from datetime import date
from functools import partial

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from dashboards import query
from dashboards.access import AccessDenied, Principal, audit, current, policy, signin
from dashboards.bands import Target
from dashboards.filters import Filters, period_label
from dashboards.formatting import NULL
from dashboards.safe_text import md
from pipelines.lake import Home


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_") or "table"


# xlsxwriter would write text starting with `=` as a live formula and text that looks
# like a URL as a hyperlink: a payer name `=HYPERLINK(...)` would run in the reader's Excel.
_XLSX_OPTIONS = {"strings_to_formulas": False, "strings_to_urls": False}
# OWASP's CSV-injection guidance: a cell starting with one of these is read as a formula
# by spreadsheet programs, so it is prefixed with a single quote.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def to_xlsx(data: pd.DataFrame, sheet: str = "data") -> bytes:
    buffer = io.BytesIO()
    with pd.ExcelWriter(
        buffer, engine="xlsxwriter", engine_kwargs={"options": _XLSX_OPTIONS}
    ) as writer:
        data.to_excel(writer, sheet_name=sheet[:31], index=False)
    return buffer.getvalue()


def _inert(value: object) -> object:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def to_csv(data: pd.DataFrame) -> bytes:
    """CSV whose text cells (header included) can never start a formula; numbers stay
    numbers (a negative amount is not text)."""
    text = data.select_dtypes(include=["object", "string"]).columns
    safe = data.copy()
    for column in text:
        safe[column] = safe[column].map(_inert)
    safe.columns = [_inert(str(c)) for c in safe.columns]
    return safe.to_csv(index=False).encode("utf-8")


# How long a generated download stays at its /media URL: long enough for the browser's
# own fetch right after the click, too short for a copied URL to be much use later.
DOWNLOAD_SECONDS = 30
_sweeper_lock = threading.Lock()
_sweeper: threading.Thread | None = None


def expire_downloads() -> None:
    """Drop every generated download Streamlit still serves (at sign-out). Streamlit
    deletes an unreferenced download at its second clean-up, and a generated download is
    referenced by no session; its button's callable stays, so a new click builds it again."""
    from streamlit import runtime

    if runtime.exists():
        manager = runtime.get_instance().media_file_mgr
        manager.remove_orphaned_files()  # marks unreferenced downloads
        manager.remove_orphaned_files()  # deletes them


def _sweep_downloads() -> None:
    """One clean-up every DOWNLOAD_SECONDS: a download marked by one is deleted by the
    next, so each lives 30 to 60 seconds and is never dropped before its browser fetch."""
    from streamlit import runtime

    while True:
        time.sleep(DOWNLOAD_SECONDS)
        if runtime.exists():
            runtime.get_instance().media_file_mgr.remove_orphaned_files()


def _start_sweeper() -> None:
    global _sweeper
    with _sweeper_lock:
        if _sweeper is None:
            _sweeper = threading.Thread(target=_sweep_downloads, name="expire-downloads")
            _sweeper.daemon = True
            _sweeper.start()


def _audited(
    build,
    data: pd.DataFrame,
    name: str,
    kind: str,
    principal: Principal,
    session: str | None,
    client: str,
) -> bytes:
    """Build a download's file and record it, for a session that is still live only.
    Streamlit calls this outside the script run that drew the button (no principal is
    bound, and a click does not rerun the script), so who and which session are passed
    in and the session is checked here."""
    home = Home(query.serving_path().parent)
    if not signin.session_live(home, session):
        raise AccessDenied("the session that offered this download has ended")
    audit.record(
        "download",
        home=home.root,
        principal=principal,
        table=name,
        format=kind,
        rows=len(data),
        client=client,
    )
    _start_sweeper()
    return build(data)


def downloads(data: pd.DataFrame, name: str) -> None:
    """CSV and XLSX of exactly the rows behind a table or chart (raw values, not text),
    each recorded in the audit log when it is downloaded.

    The files are built when a button is clicked, not on every run of the page."""
    slug = _slug(name)
    principal = current()
    if not policy.may_download(principal):
        return
    who = (principal, signin.session_id(), signin.client_address())
    row = st.container(horizontal=True)
    row.download_button(
        "CSV",
        partial(_audited, to_csv, data, name, "csv", *who),
        file_name=f"{slug}.csv",
        mime="text/csv",
        key=f"csv_{slug}",
        icon=":material/download:",
        on_click="ignore",
        help=f"Download “{md(name)}” as CSV",
    )
    row.download_button(
        "XLSX",
        partial(_audited, partial(to_xlsx, sheet=slug), data, name, "xlsx", *who),
        file_name=f"{slug}.xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        key=f"xlsx_{slug}",
        icon=":material/download:",
        on_click="ignore",
        help=f"Download “{md(name)}” as Excel",
    )


def table(
    shown: pd.DataFrame,
    name: str,
    raw: pd.DataFrame | None = None,
    help_by_column: dict[str, str] | None = None,
    height: int | None = None,
) -> None:
    """A formatted table; downloads carry `raw` (the unformatted rows) when given."""
    st.markdown(f"**{md(name)}**")
    if shown.empty:
        st.info("Nothing to show for this selection.")
        return
    shown = _nulls_as_dash(_dates_without_midnight(shown))
    config = {
        column: st.column_config.Column(help=text)
        for column, text in (help_by_column or {}).items()
    }
    st.dataframe(
        shown,
        hide_index=True,
        column_config=config,
        width="stretch",
        height=height or "auto",
    )
    downloads(shown if raw is None else raw, name)


def _dates_without_midnight(data: pd.DataFrame) -> pd.DataFrame:
    """DuckDB dates arrive as timestamps at midnight; show them as dates."""
    data = data.copy()
    for column in data.select_dtypes(include="datetime").columns:
        values = data[column]
        if (values.dropna() == values.dropna().dt.normalize()).all():
            data[column] = values.dt.date
    return data


def _nulls_as_dash(data: pd.DataFrame) -> pd.DataFrame:
    for column in data.columns[data.isna().any()]:
        data[column] = data[column].astype(object).where(data[column].notna(), NULL)
    return data


def partial_sources_warning(last_day: date) -> None:
    """Say which sources end before the period does, so a dip is not read as real."""
    fresh = query.dq_table("dq_freshness")
    covered = pd.to_datetime(fresh["latest_data_date"])
    # Ledger files carry a month per row: a month's row covers the whole month.
    monthly = fresh["entity"].isin(["gl_expenses", "budget"])
    covered = covered.where(~monthly, covered + pd.offsets.MonthEnd(0))
    stale = fresh[covered.notna() & (covered < pd.Timestamp(last_day))]
    if not stale.empty:
        st.warning(
            "Some sources end before this period does, so their KPIs are partial: "
            + "; ".join(
                f"{row.entity} up to {pd.Timestamp(row.latest_data_date):%d %b}"
                for row in stale.itertuples()
            )
            + "."
        )


def chart(figure: go.Figure, data: pd.DataFrame, name: str, key: str | None = None) -> None:
    if data.empty:
        st.markdown(f"**{md(name)}**")
        st.info("Nothing to show for this selection.")
        return
    st.plotly_chart(figure, width="stretch", key=key or f"chart_{_slug(name)}")
    downloads(data, name)


def header(title: str, filters: Filters, purpose: str) -> None:
    info = query.publish_info()
    st.title(title)
    as_of = pd.Timestamp(info["as_of_date"])
    st.caption(
        f"{purpose}  \n{md(filters.describe())} · data as of {as_of:%d %b %Y}"
        f" (published {pd.Timestamp(info['published_at']):%d %b %Y %H:%M} UTC) · "
        f"{NULL} means no denominator in that period; hover a column title for why."
    )


def targets() -> dict[str, Target]:
    return {row["kpi"]: Target.from_row(row) for row in query.targets().to_dict("records")}


def selection() -> Filters:
    """The filters the entry script resolved for this run."""
    return st.session_state["filters"]


def period_text(filters: Filters) -> str:
    return period_label(filters.grain, filters.current)
