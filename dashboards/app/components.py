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

from dashboards.access import AccessDenied, Principal, audit, current, policy, signin
from dashboards.access.safe_text import md
from dashboards.app import formatting
from dashboards.app.bands import Target
from dashboards.app.filters import Filters, period_label
from dashboards.app.formatting import NULL, column_unit, excel_format, number_format
from dashboards.data import query
from pipelines.core.home import Home


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_") or "table"


# xlsxwriter would write text starting with `=` as a live formula and text that looks
# like a URL as a hyperlink: a payer name `=HYPERLINK(...)` would run in the reader's Excel.
_XLSX_OPTIONS = {"strings_to_formulas": False, "strings_to_urls": False}
# OWASP's CSV-injection guidance: a cell starting with one of these is read as a formula
# by spreadsheet programs, so it is prefixed with a single quote.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def to_xlsx(
    data: pd.DataFrame, sheet: str = "data", units: dict[str, str | None] | None = None
) -> bytes:
    """The rows as a spreadsheet: the same headers and number formats as the page's table
    (the CSV keeps the raw column names for scripts)."""
    buffer = io.BytesIO()
    data = _dates_without_midnight(data)
    with pd.ExcelWriter(
        buffer, engine="xlsxwriter", engine_kwargs={"options": _XLSX_OPTIONS}
    ) as writer:
        data.rename(columns=formatting.header).to_excel(writer, sheet_name=sheet[:31], index=False)
        book, worksheet = writer.book, writer.sheets[sheet[:31]]
        for index, column in enumerate(data.columns):
            values = data[column]
            longest = max((len(str(v)) for v in values.head(200)), default=0)
            width = min(60, max(len(formatting.header(column)), longest, 8))
            cell = None
            if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
                unit = (units or {}).get(column, column_unit(column))
                cell = book.add_format({"num_format": excel_format(unit, _integer(values))})
            worksheet.set_column(index, index, width + 2, cell)
    return buffer.getvalue()


def _integer(values: pd.Series) -> bool:
    return pd.api.types.is_integer_dtype(values) or bool(
        (values.dropna() == values.dropna().round()).all()
    )


def column_config(
    data: pd.DataFrame, units: dict[str, str | None] | None = None, help_by_column=None
) -> dict:
    """Per column: a human header, the unit's number format, dates as dates, and long text
    given room (the one place a table's look is decided)."""
    config = {}
    help_by_column = help_by_column or {}
    for column in data.columns:
        values = data[column]
        title = formatting.header(str(column))
        help_text = help_by_column.get(column)
        if pd.api.types.is_bool_dtype(values):
            config[column] = st.column_config.CheckboxColumn(title, help=help_text)
        elif pd.api.types.is_numeric_dtype(values):
            unit = (units or {}).get(column, column_unit(str(column)))
            config[column] = st.column_config.NumberColumn(
                title, help=help_text, format=number_format(unit, _integer(values))
            )
        elif pd.api.types.is_datetime64_any_dtype(values):
            config[column] = st.column_config.DatetimeColumn(
                title, help=help_text, format="D MMM YYYY, HH:mm"
            )
        elif values.map(lambda v: hasattr(v, "isoformat")).any():
            config[column] = st.column_config.DateColumn(title, help=help_text, format="D MMM YYYY")
        else:
            longest = values.astype(str).str.len().max() if len(values) else 0
            width = "large" if longest > 40 else "medium" if longest > 14 else None
            config[column] = st.column_config.TextColumn(title, help=help_text, width=width)
    return config


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


def downloads(data: pd.DataFrame, name: str, units: dict[str, str | None] | None = None) -> None:
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
        partial(_audited, partial(to_xlsx, sheet=slug, units=units), data, name, "xlsx", *who),
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
    units: dict[str, str | None] | None = None,
) -> None:
    """A table with human headers and every number in its unit (`units` names a column's
    unit where its name does not tell; see formatting.column_unit). Nulls read "–".
    Downloads carry `raw` (the unformatted rows) when given, else the same rows."""
    st.markdown(f"**{md(name)}**")
    if shown.empty:
        st.info("Nothing to show for this selection.")
        return
    shown = _dates_without_midnight(shown)
    wraps = any(
        shown[c].astype(str).str.len().max() > 60 for c in shown.select_dtypes(exclude="number")
    )
    st.dataframe(
        shown,
        hide_index=True,
        column_config=column_config(shown, units, help_by_column),
        width="stretch",
        height=height or "auto",
        placeholder=NULL,
        # Long text (rejection reasons, file errors) wraps onto a second line.
        row_height=56 if wraps else None,
    )
    downloads(shown if raw is None else raw, name, units)


def _dates_without_midnight(data: pd.DataFrame) -> pd.DataFrame:
    """DuckDB dates arrive as timestamps at midnight; show them as dates."""
    data = data.copy()
    for column in data.select_dtypes(include="datetime").columns:
        values = data[column]
        if (values.dropna() == values.dropna().dt.normalize()).all():
            data[column] = values.dt.date
    return data


# Source files in a practice manager's words, and whether their KPIs are cost KPIs (a role
# that reads no cost is not warned about payroll or the ledger).
SOURCES = {
    "appointments": ("the scheduler's appointments", False),
    "provider_slots": ("the scheduler's template slots", False),
    "charges": ("billing charges", False),
    "claims": ("billing claims", False),
    "transactions": ("payments and denials", False),
    "payers": ("the payer list", False),
    "timesheets": ("payroll timesheets", True),
    "staff": ("the staff roster", True),
    "gl_expenses": ("the general ledger", True),
    "budget": ("the budget", True),
}


def partial_sources_warning(last_day: date) -> None:
    """Say which sources end before the period does, so a dip is not read as real; only
    the sources behind KPIs the reader's role sees."""
    fresh = query.dq_table("dq_freshness")
    covered = pd.to_datetime(fresh["latest_data_date"])
    # Ledger files carry a month per row: a month's row covers the whole month.
    monthly = fresh["entity"].isin(["gl_expenses", "budget"])
    covered = covered.where(~monthly, covered + pd.offsets.MonthEnd(0))
    stale = fresh[covered.notna() & (covered < pd.Timestamp(last_day))]
    if not policy.may_see_costs(current()):
        stale = stale[~stale["entity"].map(lambda e: SOURCES.get(e, (e, False))[1])]
    if not stale.empty:
        st.warning(
            "Some sources end before this period does, so their KPIs are partial: "
            + "; ".join(
                f"{SOURCES.get(row.entity, (row.entity, False))[0]} up to "
                f"{pd.Timestamp(row.latest_data_date):%d %b}"
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
