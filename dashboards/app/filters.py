"""The shared filters: period, location and provider, the same on every page.

The widgets live in the app's entry script, which runs on every page, so their state
survives a page change; each run also writes them into the URL (`st.query_params`) so
that a link or a bookmark reopens the same view, and a URL's values are read back the
first time a session starts. Each widget is drawn with its current value as its default
(`_initial`), never set through session state.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

import streamlit as st

from dashboards.access import audit
from dashboards.data import query
from dashboards.reports.periods import Period

PERIODS = ("week", "month", "quarter", "year", "custom")
PERIOD_LABELS = {
    "week": "Week",
    "month": "Month",
    "quarter": "Quarter",
    "year": "Fiscal year",
    "custom": "Custom",
}
ALL = ""  # the "every location / provider" choice
WEEKS_SHOWN = 13
MONTHS_SHOWN = 12
QUARTERS_SHOWN = 8
YEARS_SHOWN = 5
CUSTOM_WEEKLY_LIMIT = 26 * 7  # longer custom ranges are shown month by month


@dataclass(frozen=True)
class Filters:
    period: str
    grain: str  # the published grain the pages read: week, month, quarter or year
    start: date  # first period start shown
    current: date  # the period the headline figures are for (last one shown)
    last_day: date  # the last calendar day the window covers
    location: str | None
    provider: str | None

    @property
    def scope(self) -> tuple[str, str]:
        """The kpi_values scope of this selection: provider, else location, else practice."""
        if self.provider:
            return "provider", self.provider
        if self.location:
            return "location", self.location
        return "practice", "all"

    @property
    def cost_scope(self) -> tuple[str, str]:
        """Cost KPIs have no provider scope: they fall back to the location or practice."""
        if self.location:
            return "location", self.location
        return "practice", "all"

    def describe(self) -> str:
        where = []
        if self.location:
            where.append(location_name(self.location))
        if self.provider:
            where.append(query.names().provider(self.provider))
        scope = ", ".join(where) or "whole practice"
        span = f"{period_label(self.grain, self.start)} to {period_label(self.grain, self.current)}"
        return f"{span[0].upper()}{span[1:]} · {scope}"


def period_label(grain: str, start: date) -> str:
    if grain == "week":
        return f"week of {start:%d %b %Y}"
    if grain == "quarter":
        return quarter_label(start, _fiscal_start_month())
    if grain == "year":
        return year_label(start)
    return f"{start:%b %Y}"


def _fiscal_start_month() -> int:
    """The month the practice's fiscal year starts, as dbt published it (the year rows'
    first month; KPI_SPEC.md "Calendar and grain"): January when nothing says otherwise."""
    years = query.period_starts("year")
    return years[-1].month if years else 1


def year_label(start: date) -> str:
    """A fiscal year is named by the calendar year it ends in, as the board deck names it."""
    return Period(start, 12).label


def quarter_label(start: date, first: int) -> str:
    """A fiscal quarter of a year starting in month `first`: Q1 starts the fiscal year (a
    calendar quarter when it starts in January, e.g. "Q3 2026"; else "Q1 FY2027")."""
    number = (start.month - first) % 12 // 3 + 1
    if first == 1:
        return f"Q{number} {start.year}"
    year_start = date(start.year - (start.month < first), first, 1)
    return f"Q{number} {year_label(year_start)}"


def location_name(location_id: str) -> str:
    names = dict(query.locations()[["location_id", "location_name"]].itertuples(index=False))
    return names.get(location_id, location_id)


def _month_end(start: date) -> date:
    nxt = date(start.year + (start.month == 12), start.month % 12 + 1, 1)
    return nxt - timedelta(days=1)


def _complete_months() -> list[date]:
    as_of = query.as_of()
    return [m for m in query.period_starts("month") if _month_end(m) <= as_of]


def resolve(
    period: str, at: date | None, span: tuple[date, date] | None, location, provider
) -> Filters:
    """Turn the widget values into the window of published periods a page reads."""
    weeks = [w for w in query.period_starts("week") if w <= query.last_complete_week()]
    months = query.period_starts("month")
    if period == "week":
        current = at if at in weeks else weeks[-1]
        start = current - timedelta(weeks=WEEKS_SHOWN - 1)
        return Filters(
            period, "week", start, current, current + timedelta(days=6), location, provider
        )
    if period == "month":
        complete = _complete_months()
        current = at if at in months else complete[-1]
        index = months.index(current)
        start = months[max(0, index - MONTHS_SHOWN + 1)]
        return Filters(period, "month", start, current, _month_end(current), location, provider)
    if period in ("quarter", "year"):
        # A quarter or fiscal year reads its own published rows, each KPI computed by dbt
        # over the whole period (KPI_SPEC.md), never months added up here.
        starts = query.period_starts(period)
        current = at if at in starts else starts[-1]
        index = starts.index(current)
        shown = QUARTERS_SHOWN if period == "quarter" else YEARS_SHOWN
        last_day = Period(current, 3 if period == "quarter" else 12).end
        return Filters(
            period, period, starts[max(0, index - shown + 1)], current, last_day, location, provider
        )
    low, high = span or (
        weeks[-1] - timedelta(weeks=WEEKS_SHOWN - 1),
        weeks[-1] + timedelta(days=6),
    )
    grain = "week" if (high - low).days <= CUSTOM_WEEKLY_LIMIT else "month"
    starts = [s for s in (weeks if grain == "week" else months) if low <= s <= high] or [
        (weeks if grain == "week" else months)[-1]
    ]
    return Filters(period, grain, starts[0], starts[-1], high, location, provider)


# -- widgets and URL ----------------------------------------------------------------------

_KEYS = {
    "period": "f_period",
    "at": "f_at",
    "from": "f_from",
    "to": "f_to",
    "loc": "f_loc",
    "prov": "f_prov",
}
_FROM_URL = "_filters_from_url"


def _parse_date(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _from_url() -> dict:
    """The URL's filters as the session's first run found them (a shared link wins over
    the defaults); kept for the session, since a widget starts from them until it has a
    value of its own."""
    if _FROM_URL not in st.session_state:
        params = st.query_params
        found: dict = {"period": params.get("period")}
        found.update({key: _parse_date(params.get(key)) for key in ("at", "from", "to")})
        found.update({key: params.get(key) or None for key in ("loc", "prov")})
        st.session_state[_FROM_URL] = found
    return st.session_state[_FROM_URL]


def _initial(key: str, valid: Callable[[object], bool], fallback, widget: str | None = None):
    """The value a widget is drawn with: its own while still valid, else the URL's, else
    `fallback`. It is passed as the widget's default, never written to st.session_state:
    the browser redraws a widget from the default it was sent whenever a rerun replaces
    the element (the sign-in cookie's component starts such reruns), so a value that lived
    only in session state came back as the default, and a shared month link opened on
    the week view."""
    widget = widget or _KEYS[key]
    if widget in st.session_state:
        if valid(st.session_state[widget]):
            return st.session_state[widget]
        del st.session_state[widget]  # e.g. a week when the period is now months
    wanted = _from_url()[key]
    return wanted if valid(wanted) else fallback


def _index(key: str, options: list, fallback=None, widget: str | None = None) -> int | None:
    """The selectbox index `_initial` picks; `fallback` defaults to the first option."""
    if not options:
        return None
    return options.index(
        _initial(key, options.__contains__, fallback if fallback in options else options[0], widget)
    )


def _refuse_url_scope(loc_ids: list[str], prov_ids: list[str]) -> None:
    """A URL naming a location or provider outside the role is audited once and dropped:
    the widget falls back to the role's first choice."""
    found = _from_url()
    for key, allowed in (("loc", loc_ids), ("prov", prov_ids)):
        chosen = found[key]
        if chosen and chosen not in allowed:
            refused = {"value": chosen} if re.fullmatch(r"[\w-]{1,32}", chosen) else {}
            audit.record_once(
                "access_denied",
                st.session_state.setdefault("_refusals", set()),
                what=f"{key} filter",
                **refused,
            )
            found[key] = None


def sidebar() -> Filters:
    """Draw the filters in the sidebar and return the resolved selection."""
    locations = query.locations()
    providers = query.providers()
    # "All" is offered only where the role can read it (not a physician's practice, nor a
    # location manager's practice unless every location is theirs).
    loc_ids = ([ALL] if query.offers_all_locations() else []) + list(locations["location_id"])
    prov_ids = ([ALL] if query.offers_all_providers() else []) + list(providers["provider_id"])
    _refuse_url_scope(loc_ids, prov_ids)

    with st.sidebar:
        st.markdown("### Filters")
        period = st.segmented_control(
            "Period",
            PERIODS,
            default=_initial("period", PERIODS.__contains__, "week"),
            required=True,
            format_func=PERIOD_LABELS.get,
            key=_KEYS["period"],
        )
        at = span = None
        if period == "week":
            options = [w for w in query.period_starts("week") if w <= query.last_complete_week()]
            options.reverse()
            at = _select_date("week", options, lambda d: f"Week of {d:%d %b %Y}")
        elif period == "month":
            options = list(reversed(query.period_starts("month")))
            at = _select_date(
                "month", options, lambda d: f"{d:%B %Y}", default=_complete_months()[-1]
            )
        elif period in ("quarter", "year"):
            # format_func is also called between runs, where nothing may be read: the
            # fiscal start month is read here and bound.
            first = _fiscal_start_month()
            at = _select_date(
                period,
                list(reversed(query.period_starts(period))),
                (lambda d: quarter_label(d, first)) if period == "quarter" else year_label,
            )
        else:
            weeks = query.period_starts("week")
            first, last = weeks[0], query.as_of()
            default_from = query.last_complete_week() - timedelta(weeks=WEEKS_SHOWN - 1)

            def in_range(value) -> bool:
                return isinstance(value, date) and first <= value <= last

            low, high = (
                st.date_input(
                    label,
                    value=_initial(key, in_range, default),
                    min_value=first,
                    max_value=last,
                    key=_KEYS[key],
                )
                for label, key, default in (("From", "from", default_from), ("To", "to", last))
            )
            span = (min(low, high), max(low, high))
        names = dict(locations[["location_id", "location_name"]].itertuples(index=False))
        location = st.selectbox(
            "Location",
            loc_ids,
            index=_index("loc", loc_ids),
            format_func=lambda v: names.get(v, "All locations") if v else "All locations",
            key=_KEYS["loc"],
        )
        roles = dict(providers[["provider_id", "role"]].itertuples(index=False))
        shown_as = dict(providers[["provider_id", "display_name"]].itertuples(index=False))
        provider = st.selectbox(
            "Provider",
            prov_ids,
            index=_index("prov", prov_ids),
            format_func=lambda v: (
                f"{shown_as[v]} ({roles[v].replace('_', ' ')})" if v else "All providers"
            ),
            key=_KEYS["prov"],
        )
    selection = resolve(period, at, span, location or None, provider or None)
    _write_url(period, at, span, location, provider)
    return selection


def _select_date(
    period: str, options: list[date], format_func, default: date | None = None
) -> date:
    """The period box. Each period kind has a box of its own: one box whose options
    changed from weeks to months kept showing the week it held (Streamlit keys a widget's
    identity by its key), so Month read as a week until a month was picked."""
    widget = f"{_KEYS['at']}_{period}"
    return st.selectbox(
        PERIOD_LABELS[period],
        options,
        index=_index("at", options, default, widget),
        format_func=format_func,
        key=widget,
    )


def _write_url(period, at, span, location, provider) -> None:
    wanted = {"period": period}
    if at:
        wanted["at"] = at.isoformat()
    if span:
        wanted["from"], wanted["to"] = span[0].isoformat(), span[1].isoformat()
    if location:
        wanted["loc"] = location
    if provider:
        wanted["prov"] = provider
    if dict(st.query_params) != wanted:
        st.query_params.from_dict(wanted)
