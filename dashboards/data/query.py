"""The one door from the dashboards to the published data.

Everything a page shows comes from `<home>/serving.duckdb` through this module. The
connection is read-only and cached per *file identity* (inode and modification time):
`clinicops publish` swaps a new file in with a rename, so a changed identity means a new
published state, and the next query opens it whole while older connections keep reading
the previous file whole. Results are cached under the same identity, so a publish also
invalidates every cached frame without a timer.

Every public function reads as `access.current()` and returns only what
`dashboards/access/policy.py` lets that principal see: a single-scope request outside it
raises `AccessDenied`, a breakdown drops the rows. The cache never hands one principal
another's answer: principal-derived filters are SQL parameters (part of the cache key),
and everything else is cut from a copy after the cache.
"""

from __future__ import annotations

import os
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import streamlit as st

from dashboards import access
from dashboards.access import policy, small_cells
from dashboards.data.catalog import Catalog, Names

HOME_ENV = "CLINICOPS_HOME"


class ServingMissing(RuntimeError):
    """The home has no published serving file yet."""


@dataclass(frozen=True)
class Stamp:
    """Which published file a result came from."""

    path: str
    inode: int
    mtime_ns: int


def serving_path() -> Path:
    home = os.environ.get(HOME_ENV)
    if not home:
        raise ServingMissing(f"{HOME_ENV} is not set; start the app with `clinicops dashboard`")
    return Path(home) / "serving.duckdb"


class PublishedMeanwhile(RuntimeError):
    """A new state was published while a page was being drawn from the previous one."""


# The published state one script run reads, so that a page drawn across a publish shows
# the state it started with throughout instead of old figures beside new ones.
_pinned: ContextVar[Stamp | None] = ContextVar("clinicops_published_state", default=None)


def _stat() -> Stamp:
    path = serving_path()
    try:
        info = path.stat()
    except FileNotFoundError:
        raise ServingMissing(f"{path} does not exist; run `clinicops run` first") from None
    return Stamp(str(path), info.st_ino, info.st_mtime_ns)


def stamp() -> Stamp:
    """The state this run reads: the pinned one, else the file there now."""
    return _pinned.get() or _stat()


def pin_published_state() -> Stamp:
    """Read the state published now for the rest of this script run (the app calls this
    at the top of every run). A publish that lands between the look and the open is
    looked at again, so the pin always names the file its connection holds."""
    for _ in range(5):
        current = _stat()
        try:
            _connection(current)
        except PublishedMeanwhile:
            continue
        _pinned.set(current)
        return current
    raise PublishedMeanwhile("the published data kept changing; reload the page")


@st.cache_resource(max_entries=2, show_spinner=False)
def _connection(current: Stamp) -> duckdb.DuckDBPyConnection:
    # `duckdb.connect(path)` would hand back the process's cached instance of the old,
    # renamed-away file; a private in-memory database that attaches the path opens the
    # file that is there now.
    con = duckdb.connect()
    con.execute("attach '" + current.path.replace("'", "''") + "' as serving (read_only)")
    if _stat() != current:
        # Swapped between the look and the attach (or the state asked for is gone): this
        # connection holds another state than `current` names, so it must not be cached.
        con.close()
        raise PublishedMeanwhile("a new state was published meanwhile; reload the page")
    return con


# A resource cache, not a data cache: results stay in memory as they are instead of being
# pickled and unpickled on every hit, which costs more than the page itself on big frames.
# Callers get a copy, so no page can change what another one reads.
@st.cache_resource(max_entries=512, show_spinner=False)
def _frame(current: Stamp, sql: str, params: tuple) -> pd.DataFrame:
    # A cursor per query: the cached connection is shared by every session's thread.
    with _connection(current).cursor() as cur:
        cur.execute("use serving")
        return cur.sql(sql, params=list(params)).df()


def _read(sql: str, *params) -> pd.DataFrame:
    """Run a read-only query against the current published state (cached, unscoped: only
    for this module's functions, which scope what they return)."""
    return _frame(stamp(), sql, tuple(params)).copy()


def _who() -> access.Principal:
    """The principal of this read; refused when nobody is signed in or they have no role."""
    principal = access.current()
    policy.role_of(principal)
    return principal


@st.cache_resource(max_entries=2, show_spinner=False)
def _directory(current: Stamp) -> policy.Directory:
    locations = _frame(current, "select location_id from marts.dim_locations", ())
    homes = _frame(current, "select provider_id, home_location_id from marts.dim_providers", ())
    return policy.Directory(
        frozenset(locations["location_id"]),
        dict(homes[["provider_id", "home_location_id"]].itertuples(index=False)),
    )


def _published_directory() -> policy.Directory:
    """Every location and provider's home, for the policy to judge by; never returned."""
    return _directory(stamp())


# -- what was published ------------------------------------------------------------------


@dataclass(frozen=True)
class Calendar:
    """The published periods, asked for by the filters and every page on every run."""

    as_of: date
    published_at: pd.Timestamp
    weeks: tuple[date, ...]
    months: tuple[date, ...]
    quarters: tuple[date, ...] = ()  # fiscal quarters, named by their first day
    years: tuple[date, ...] = ()  # fiscal years, named by their first day

    @property
    def last_complete_week(self) -> date:
        """The Monday of the newest week whose Sunday is on or before the as-of date."""
        monday = self.as_of - timedelta(days=self.as_of.weekday())
        return monday if self.as_of.weekday() == 6 else monday - timedelta(days=7)


@st.cache_resource(max_entries=2, show_spinner=False)
def _calendar(current: Stamp) -> Calendar:
    info = _frame(current, "select as_of_date, published_at from marts.publish_info", ())
    starts = _frame(
        current,
        "select distinct period_grain, period_start from marts.kpi_values order by period_start",
        (),
    )

    def dates(grain: str) -> tuple[date, ...]:
        rows = starts[starts["period_grain"] == grain]["period_start"]
        return tuple(pd.Timestamp(v).date() for v in rows)

    return Calendar(
        as_of=pd.Timestamp(info.at[0, "as_of_date"]).date(),
        published_at=pd.Timestamp(info.at[0, "published_at"]),
        weeks=dates("week"),
        months=dates("month"),
        quarters=dates("quarter"),
        years=dates("year"),
    )


def calendar() -> Calendar:
    _who()
    return _calendar(stamp())


def publish_info() -> dict:
    cal = calendar()
    return {"as_of_date": cal.as_of, "published_at": cal.published_at}


def as_of() -> date:
    return calendar().as_of


def last_complete_week() -> date:
    return calendar().last_complete_week


def period_starts(grain: str) -> list[date]:
    cal = calendar()
    by_grain = {"week": cal.weeks, "month": cal.months, "quarter": cal.quarters, "year": cal.years}
    return list(by_grain[grain])


def locations() -> pd.DataFrame:
    """The locations this principal may pick in a filter."""
    return policy.location_directory(
        _who(),
        _read("select location_id, location_name from marts.dim_locations order by location_id"),
    )


def providers() -> pd.DataFrame:
    """The providers this principal may know exist (a physician: themselves; the board: none)."""
    rows = _read(
        "select provider_id, display_name, specialty, role, home_location_id, fte "
        "from marts.dim_providers order by provider_id"
    )
    return policy.provider_directory(_who(), rows, _published_directory()).reset_index(drop=True)


@st.cache_resource(max_entries=2, show_spinner=False)
def _catalog(current: Stamp) -> Catalog:
    rows = _frame(
        current, "select kpi, label, unit, direction, description from marts.kpi_catalog", ()
    )
    return Catalog.from_rows(rows.to_dict("records"))


def catalog() -> Catalog:
    """Labels, units and directions of every KPI (marts.kpi_catalog, the dbt seed)."""
    _who()
    return _catalog(stamp())


def names() -> Names:
    """The one lookup of display names pages use instead of ids: locations, payers, and
    the providers this principal may see (providers.csv display names; the id where the
    practice delivered none)."""
    seen = providers()
    return Names(
        locations=dict(locations()[["location_id", "location_name"]].itertuples(index=False)),
        providers=dict(seen[["provider_id", "display_name"]].itertuples(index=False)),
        payers=dict(
            _read("select payer_id, payer_name from marts.dim_payers")[
                ["payer_id", "payer_name"]
            ].itertuples(index=False)
        ),
    )


def offers_all_locations() -> bool:
    return policy.offers_all_locations(_who(), _published_directory())


def offers_all_providers() -> bool:
    return policy.offers_all_providers(_who())


def targets() -> pd.DataFrame:
    _who()
    return _read(
        "select kpi, direction, target_low, target_high, unit, source, note "
        "from marts.kpi_targets order by kpi"
    )


# -- kpi_values --------------------------------------------------------------------------


_KPI_COLUMNS = "period_grain, period_start, scope, scope_id, kpi, value, numerator, denominator"
# Each published row with its one status (marts.kpi_status: band in force, direction,
# target source, partial / no_target / in_band / out_of_band, band_gap): pages show the
# status they are given and never judge a value themselves.
_STATUS_COLUMNS = "target_low, target_high, direction, target_source, status, band_gap"
_WITH_STATUS = (
    f"(select v.*, {', '.join('s.' + c for c in _STATUS_COLUMNS.split(', '))} "
    "from marts.kpi_values v left join marts.kpi_status s "
    "using (period_grain, period_start, scope, scope_id, kpi))"
)


@st.cache_resource(max_entries=2, show_spinner=False)
def _withheld(current: Stamp) -> frozenset:
    """The board's suppression pattern of this published state, judged once over every
    practice and location count (small_cells.withheld)."""
    rows = _frame(
        current,
        f"select {_KPI_COLUMNS} from marts.kpi_values "
        "where list_contains(?, scope) and list_contains(?, kpi)",
        (list(small_cells.BOARD_SCOPES), small_cells.atom_kpis()),
    )
    return small_cells.withheld(rows)


def _for_board(rows: pd.DataFrame) -> pd.DataFrame:
    """Small cells and their complements suppressed when the rule applies to the principal."""
    if not policy.suppresses_small_cells(access.current()):
        return rows
    if rows.empty:
        return rows.assign(suppressed=False)
    rows = small_cells.suppress_withheld(rows, _withheld(stamp()))
    if "status" in rows:
        # A suppressed cell's status would tell which side of its band the hidden value is.
        rows.loc[rows["suppressed"], ["status", "band_gap"]] = None
    return rows


def _shown(rows: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """The columns a function promises, plus the board's `suppressed` flag."""
    return rows[[*columns, *(["suppressed"] if "suppressed" in rows else [])]].reset_index(
        drop=True
    )


def kpi_series(
    kpis: list[str], grain: str, scope: str, scope_ids: list[str], start: date, end: date
) -> pd.DataFrame:
    """Published KPI rows for some KPIs, scopes and a window of period starts, each with
    its one status (marts.kpi_status)."""
    policy.require_kpi_ids(_who(), scope, scope_ids, _published_directory())
    rows = _read(
        f"select {_KPI_COLUMNS}, {_STATUS_COLUMNS} "
        f"from {_WITH_STATUS} where period_grain = ? and scope = ? "
        "and list_contains(?, scope_id) and list_contains(?, kpi) "
        "and period_start between ? and ? order by kpi, scope_id, period_start",
        grain,
        scope,
        scope_ids,
        kpis,
        start,
        end,
    )
    return _for_board(rows)


def kpi_like(
    prefix: str, grain: str, scope: str, scope_ids: list[str], start: date, end: date
) -> pd.DataFrame:
    """Rows of a KPI family (`payer_mix_`, `ar_aging_`, `budget_variance_`)."""
    policy.require_kpi_ids(_who(), scope, scope_ids, _published_directory())
    rows = _read(
        f"select {_KPI_COLUMNS} "
        "from marts.kpi_values where period_grain = ? and scope = ? "
        "and list_contains(?, scope_id) and starts_with(kpi, ?) "
        "and period_start between ? and ? order by kpi, scope_id, period_start",
        grain,
        scope,
        scope_ids,
        prefix,
        start,
        end,
    )
    return _for_board(rows)


def _breakdown(
    kpis: list[str], grain: str, start: date, end: date, scope: str, location: str | None
) -> pd.DataFrame:
    principal = _who()
    rows = _read(
        f"select {_KPI_COLUMNS}, {_STATUS_COLUMNS} from {_WITH_STATUS} "
        "where list_contains(?, kpi) and period_grain = ? and period_start between ? and ? "
        "and scope = ? order by kpi, scope_id, period_start",
        kpis,
        grain,
        start,
        end,
        scope,
    )
    directory = _published_directory()
    if location is not None and scope == "provider":
        shown = None
        if principal.role is access.Role.PHYSICIAN:
            # Judged on every provider, so that the all-peers list minus the location
            # lists never leaves a hidden group of one or two.
            shown = policy.peer_groups_shown(rows, principal.provider_id, directory)
        # Narrowed before the peer rule, so the group it judges is the group shown.
        rows = rows[rows["scope_id"].isin(directory.providers_at(frozenset({location})))]
        if shown is not None:
            group = [c for c in ("kpi", "period_start") if c in rows.columns]
            here = shown[shown["home_location_id"] == location][group]
            peers = rows[rows["scope_id"] != principal.provider_id].merge(here, on=group)
            rows = pd.concat([rows[rows["scope_id"] == principal.provider_id], peers])
    return _for_board(policy.breakdown(principal, scope, rows, directory))


def kpi_breakdown(kpi: str, grain: str, period_start: date, scope: str) -> pd.DataFrame:
    """One KPI for one period across every location or provider (drill-downs, peers),
    with each row's status."""
    rows = _breakdown([kpi], grain, period_start, period_start, scope, None)
    return _shown(
        rows,
        ["scope_id", "value", "numerator", "denominator", "target_low", "target_high", "status"],
    )


def kpi_breakdown_window(
    kpis: list[str],
    grain: str,
    start: date,
    end: date,
    scope: str,
    location: str | None = None,
) -> pd.DataFrame:
    """KPIs over a window across every location or provider; `location` narrows a provider
    breakdown to the providers whose home location it is."""
    rows = _breakdown(kpis, grain, start, end, scope, location)
    return _shown(rows, ["period_start", "scope_id", "kpi", "value"])


# -- planning (run-rate forecast and what-if baseline, both from dbt) ---------------------


def forecast(kpi: str, scope: str, scope_id: str) -> tuple[dict | None, pd.DataFrame]:
    """The year's run-rate forecast (marts.kpi_forecast) and its months still to come."""
    principal = _who()
    policy.require_costs(principal)
    policy.require_kpi_ids(principal, scope, [scope_id], _published_directory())
    year = _read(
        "select * from marts.kpi_forecast where kpi = ? and scope = ? and scope_id = ?",
        kpi,
        scope,
        scope_id,
    )
    months = _read(
        "select month_start as month, value, low, high from marts.kpi_forecast_months "
        "where kpi = ? and scope = ? and scope_id = ? order by month_start",
        kpi,
        scope,
        scope_id,
    )
    return (year.to_dict("records")[0] if not year.empty else None), months


def whatif_baseline(scope: str, scope_id: str) -> tuple[dict | None, pd.DataFrame]:
    """The what-if's baseline (marts.whatif_baseline) and collections yield by payer class
    (marts.whatif_payer_yield): twelve complete months as published. Its yields come from
    claim detail, so it is a detail read as well as a cost read (not for the board)."""
    principal = _who()
    policy.require_costs(principal)
    if not policy.may_see_detail(principal):
        raise access.AccessDenied(f"{principal.role}: the what-if is built from claim detail")
    policy.require_kpi_ids(principal, scope, [scope_id], _published_directory())
    base = _read(
        "select * from marts.whatif_baseline where scope = ? and scope_id = ?", scope, scope_id
    )
    classes = _read(
        "select financial_class, gross_charges, payments from marts.whatif_payer_yield "
        "where scope = ? and scope_id = ? order by financial_class",
        scope,
        scope_id,
    )
    return (base.to_dict("records")[0] if not base.empty else None), classes


# -- marts beyond kpi_values (breakdowns the spec has no KPI row for) ---------------------


def _detail(location: str | None, provider: str | None) -> policy.Detail:
    """The rows of a fact table this principal may read under a location/provider filter."""
    return policy.detail(_who(), location, provider, _published_directory())


def _scoped(alias: str = "", provider_column: str = "provider_id") -> str:
    """Location and provider conditions (each null = all) on a table with both columns."""
    return (
        f"(?::varchar[] is null or list_contains(?::varchar[], {alias}location_id)) and "
        f"(?::varchar[] is null or list_contains(?::varchar[], {alias}{provider_column}))"
    )


def _scope_params(detail: policy.Detail) -> tuple:
    """The parameters of a `_scoped` filter: each list twice, locations first."""
    locations = None if detail.locations is None else list(detail.locations)
    providers = None if detail.providers is None else list(detail.providers)
    return (locations, locations, providers, providers)


def wait_heatmap(start: date, end: date, location: str | None, provider: str | None):
    """Median waits of completed visits by weekday and hour of the scheduled start."""
    return _read(
        "select isodow(scheduled_start) as weekday, hour(scheduled_start) as hour, "
        "count(*) as visits, "
        "quantile_cont(lobby_wait_min, 0.5) as lobby_wait_min_p50, "
        "quantile_cont(wait_for_provider_min, 0.5) as wait_for_provider_min_p50, "
        "quantile_cont(cycle_time_min, 0.5) as cycle_time_min_p50 "
        "from marts.fct_appointments where status = 'completed' "
        "and scheduled_date between ? and ? and " + _scoped() + " "
        "group by all order by weekday, hour",
        start,
        end,
        *_scope_params(_detail(location, provider)),
    )


def denials_by_reason(start: date, end: date, location: str | None, provider: str | None):
    return _read(
        "select coalesce(carc_code, 'none given') as carc_code, "
        "coalesce(carc_reason_description, reason_code, 'no reason code') as reason, "
        "count(*) as denials, count(distinct claim_id) as claims "
        "from marts.fct_transactions where transaction_type = 'denial' "
        "and posted_date between ? and ? and " + _scoped() + " "
        "group by all order by denials desc",
        start,
        end,
        *_scope_params(_detail(location, provider)),
    )


def first_responses_by_payer(start: date, end: date, location: str | None, provider: str | None):
    """Claims whose first payer response fell in the window, and how many were denied."""
    return _read(
        "select c.payer_id, coalesce(p.payer_name, c.payer_id, 'unknown payer') as payer_name, "
        "c.financial_class, count(*) as claims_responded, "
        "count(*) filter (where c.is_initial_denial) as claims_denied "
        "from marts.fct_claims c left join marts.dim_payers p using (payer_id) "
        "where c.first_response_date between ? and ? and "
        + _scoped("c.")
        + " group by all order by claims_denied desc",
        start,
        end,
        *_scope_params(_detail(location, provider)),
    )


def ar_by_payer(location: str | None, provider: str | None):
    """Open claim balances today (as published), by payer."""
    return _read(
        "select c.payer_id, coalesce(p.payer_name, c.payer_id, 'unknown payer') as payer_name, "
        "c.financial_class, count(*) as open_claims, sum(c.ar_balance)::double as ar_balance "
        "from marts.fct_claims c left join marts.dim_payers p using (payer_id) "
        "where c.ar_balance <> 0 and " + _scoped("c.") + " group by all order by ar_balance desc",
        *_scope_params(_detail(location, provider)),
    )


def charges_by_payer_cpt(start: date, end: date, location: str | None, provider: str | None):
    return _read(
        "select ch.payer_id, "
        "coalesce(p.payer_name, ch.payer_id, 'unknown payer') as payer_name, ch.cpt_code, "
        "count(*) as charge_lines, sum(ch.units) as units, "
        "sum(ch.charge_amount)::double as gross_charges, sum(ch.work_rvus)::double as work_rvus "
        "from marts.fct_charges ch left join marts.dim_payers p using (payer_id) "
        "where ch.service_date between ? and ? and "
        + _scoped("ch.", "rendering_provider_id")
        + " group by all order by gross_charges desc",
        start,
        end,
        *_scope_params(_detail(location, provider)),
    )


def non_labor_by_account(start: date, end: date, location: str | None):
    """Monthly GL actuals by account, from the published budget-variance rows."""
    principal = _who()
    policy.require_costs(principal)
    scope, scope_id = ("location", location) if location else ("practice", "all")
    policy.require_kpi_ids(principal, scope, [scope_id], _published_directory())
    # GL accounts carry money only: no count for the small-cell rule to judge.
    return _read(
        "select period_start, scope_id, replace(kpi, 'budget_variance_', '') as account, "
        "numerator as actual, denominator as budget from marts.kpi_values "
        "where period_grain = 'month' and starts_with(kpi, 'budget_variance_') "
        "and kpi not in ('budget_variance_completed_visits', 'budget_variance_gross_charges', "
        "'budget_variance_collections', 'budget_variance_labor_cost') "
        "and period_start between ? and ? and scope = ? and scope_id = ? "
        "order by period_start, account",
        start,
        end,
        scope,
        scope_id,
    )


# -- data quality -------------------------------------------------------------------------

DQ_TABLES = frozenset(
    {
        "dq_deliveries",
        "dq_freshness",
        "dq_orphans",
        "dq_rejected_by_reason",
        "dq_rejected_rows",
        "dq_remittance",
        "dq_unmatched_cpt",
        "dq_wait_violations",
    }
)


def dq_table(name: str) -> pd.DataFrame:
    if name not in DQ_TABLES:
        raise ValueError(f"not a data-quality table: {name}")
    policy.require_data_quality(_who(), name)
    return _read(f"select * from marts.{name}")
