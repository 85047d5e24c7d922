"""Board deck: the deck of a closed month or quarter, built from what the signed-in user
may read, to download as PPTX and PDF (the same pages). The app opens it to the roles of
`policy.may_build_board_deck`, and `build_deck` refuses the others and audits the build."""

from __future__ import annotations

from functools import partial

import streamlit as st

from dashboards.access import audit
from dashboards.access.principal import Principal, current
from dashboards.data import query
from dashboards.reports.commentary import MAX_CHARS, may_edit, read_commentary, save_commentary
from dashboards.reports.jobs import deck_options
from dashboards.reports.on_demand import DeckFiles, build_deck_files, deck_periods
from pipelines.core.config import load_config

PPTX_MIME = "application/vnd.openxmlformats-officedocument.presentationml.presentation"


def _audited(files: DeckFiles, kind: str, principal: Principal) -> bytes:
    """Record the download as the table downloads are (dashboards/app/components.py): Streamlit
    calls this outside the script run, where no principal is bound, so it is passed in."""
    audit.record(
        "download",
        home=query.serving_path().parent,
        principal=principal,
        table="board deck",
        period=files.period.code,
        format=kind,
    )
    return files.pptx if kind == "pptx" else files.pdf


st.title("Board deck")
principal = current()
stamp = query.stamp()
as_of = query.as_of()
st.caption(
    f"The practice's board report for a closed month or quarter, from the data as of "
    f"{as_of:%d %b %Y}: every figure a published KPI, counts under 11 suppressed. Built "
    "from what your role may read; the sidebar's filters do not apply."
)
months, quarters = deck_periods(query.period_starts("month"), as_of)
kind = st.radio("Deck for a", ["Month", "Quarter"], horizontal=True, key="deck_kind")
choices = months if kind == "Month" else quarters
if not choices:
    st.info(f"No complete {kind.lower()} has been published yet.")
    st.stop()
period = st.selectbox(kind, choices, format_func=lambda p: p.label, key=f"deck_{kind}")

home = query.serving_path().parent
saved = read_commentary(home, period.code)
if may_edit(principal):
    with st.form(f"commentary_{period.code}"):
        text = st.text_area(
            f"Manager's commentary on {period.label}",
            value=saved,
            max_chars=MAX_CHARS,
            height=180,
            help="Printed on its own slide after the executive summary. Each save is "
            "recorded in the audit log.",
        )
        if st.form_submit_button("Save commentary", icon=":material/save:"):
            save_commentary(home, period.code, text, principal)
            st.success("Saved: the next deck of this period includes it.")
elif saved:
    st.markdown(f"**Manager's commentary on {period.label}**")
    st.text(saved)

# A deck belongs to the user, period and published state it was built from: a sign-out,
# another period or a new publish shows the button again, never an earlier user's deck.
built_for = (principal.username, period, stamp)
if st.button("Build the deck", type="primary", icon=":material/slideshow:"):
    with st.spinner(f"Building the {period.label} deck: charts, slides and the PDF…"):
        files = build_deck_files(query.serving_path(), period, deck_options(load_config()))
    st.session_state["board_deck"] = (built_for, files)

built = st.session_state.get("board_deck")
if built is not None and built[0] == built_for:
    files = built[1]
    st.success(f"{period.label}: {files.slides} slides, built in {files.seconds:.1f} s.")
    row = st.container(horizontal=True)
    row.download_button(
        "PPTX",
        partial(_audited, files, "pptx", principal),
        file_name=files.file_name("pptx"),
        mime=PPTX_MIME,
        icon=":material/download:",
        on_click="ignore",
        help="The deck to edit or present (PowerPoint, Keynote, LibreOffice)",
    )
    row.download_button(
        "PDF",
        partial(_audited, files, "pdf", principal),
        file_name=files.file_name("pdf"),
        mime="application/pdf",
        icon=":material/download:",
        on_click="ignore",
        help="The same pages as a PDF, to send or print",
    )
