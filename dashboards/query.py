"""The one door from the dashboards to the published data.

Everything a page shows comes from `<home>/serving.duckdb` through this module. The
connection is read-only and cached per *file identity* (inode and modification time):
`clinicops publish` swaps a new file in with a rename, so a changed identity means a new
published state, and the next query opens it whole while older connections keep reading
the previous file whole. Results are cached under the same identity, so a publish also
invalidates every cached frame without a timer.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb
import pandas as pd
import streamlit as st

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


def stamp() -> Stamp:
    path = serving_path()
    try:
        info = path.stat()
    except FileNotFoundError:
        raise ServingMissing(f"{path} does not exist; run `clinicops run` first") from None
    return Stamp(str(path), info.st_ino, info.st_mtime_ns)


@st.cache_resource(max_entries=2, show_spinner=False)
def _connection(current: Stamp) -> duckdb.DuckDBPyConnection:
    # `duckdb.connect(path)` would hand back the process's cached instance of the old,
    # renamed-away file; a private in-memory database that attaches the path opens the
    # file that is there now.
    con = duckdb.connect()
    con.execute("attach '" + current.path.replace("'", "''") + "' as serving (read_only)")
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


def frame(sql: str, *params) -> pd.DataFrame:
    """Run a read-only query against the current published state (cached)."""
    return _frame(stamp(), sql, tuple(params)).copy()


# -- what was published ------------------------------------------------------------------


@dataclass(frozen=True)
class Calendar:
    """The published periods, asked for by the filters and every page on every run."""

    as_of: date
    published_at: pd.Timestamp
    weeks: tuple[date, ...]
    months: tuple[date, ...]

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
    )


def calendar() -> Calendar:
    return _calendar(stamp())


def publish_info() -> dict:
    cal = calendar()
    return {"as_of_date": cal.as_of, "published_at": cal.published_at}


def as_of() -> date:
    return calendar().as_of


def last_complete_week() -> date:
    return calendar().last_complete_week


def period_starts(grain: str) -> list[date]:
    return list(calendar().weeks if grain == "week" else calendar().months)


def locations() -> pd.DataFrame:
    return frame("select location_id, location_name from marts.dim_locations order by location_id")


def providers() -> pd.DataFrame:
    return frame(
        "select provider_id, role, home_location_id, fte from marts.dim_providers "
        "order by provider_id"
    )


def targets() -> pd.DataFrame:
    return frame(
        "select kpi, direction, target_low, target_high, unit, source, note "
        "from marts.kpi_targets order by kpi"
    )


# -- kpi_values --------------------------------------------------------------------------


def kpi_series(
    kpis: list[str], grain: str, scope: str, scope_ids: list[str], start: date, end: date
) -> pd.DataFrame:
    """Published KPI rows for some KPIs, scopes and a window of period starts."""
    return frame(
        "select period_grain, period_start, scope, scope_id, kpi, value, numerator, denominator "
        "from marts.kpi_values where period_grain = ? and scope = ? "
        "and list_contains(?, scope_id) and list_contains(?, kpi) "
        "and period_start between ? and ? order by kpi, scope_id, period_start",
        grain,
        scope,
        scope_ids,
        kpis,
        start,
        end,
    )


def kpi_like(
    prefix: str, grain: str, scope: str, scope_ids: list[str], start: date, end: date
) -> pd.DataFrame:
    """Rows of a KPI family (`payer_mix_`, `ar_aging_`, `budget_variance_`)."""
    return frame(
        "select period_grain, period_start, scope, scope_id, kpi, value, numerator, denominator "
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


def kpi_breakdown(kpi: str, grain: str, period_start: date, scope: str) -> pd.DataFrame:
    """One KPI for one period across every location or provider (drill-downs, peers)."""
    return frame(
        "select scope_id, value, numerator, denominator from marts.kpi_values "
        "where kpi = ? and period_grain = ? and period_start = ? and scope = ? "
        "order by scope_id",
        kpi,
        grain,
        period_start,
        scope,
    )


def kpi_breakdown_window(
    kpis: list[str], grain: str, start: date, end: date, scope: str
) -> pd.DataFrame:
    return frame(
        "select period_start, scope_id, kpi, value from marts.kpi_values "
        "where list_contains(?, kpi) and period_grain = ? and period_start between ? and ? "
        "and scope = ? order by kpi, scope_id, period_start",
        kpis,
        grain,
        start,
        end,
        scope,
    )


# -- marts beyond kpi_values (breakdowns the spec has no KPI row for) ---------------------

_APPT_FILTER = (
    "scheduled_date between ? and ? and (? is null or location_id = ?) "
    "and (? is null or provider_id = ?)"
)


def wait_heatmap(start: date, end: date, location: str | None, provider: str | None):
    """Median waits of completed visits by weekday and hour of the scheduled start."""
    return frame(
        "select isodow(scheduled_start) as weekday, hour(scheduled_start) as hour, "
        "count(*) as visits, "
        "quantile_cont(lobby_wait_min, 0.5) as lobby_wait_min_p50, "
        "quantile_cont(wait_for_provider_min, 0.5) as wait_for_provider_min_p50, "
        "quantile_cont(cycle_time_min, 0.5) as cycle_time_min_p50 "
        "from marts.fct_appointments where status = 'completed' and " + _APPT_FILTER + " "
        "group by all order by weekday, hour",
        start,
        end,
        *_scope_params(location, provider),
    )


def _scoped(alias: str = "") -> str:
    """Location and provider conditions (each null = all) on a claim-attributed table."""
    return f"(? is null or {alias}location_id = ?) and (? is null or {alias}provider_id = ?)"


def _scope_params(location: str | None, provider: str | None) -> tuple:
    """The parameters of a `(? is null or location = ?) and (? is null or provider = ?)`
    filter, `_scoped` or a table's own: each value twice, in that order."""
    return (location, location, provider, provider)


def denials_by_reason(start: date, end: date, location: str | None, provider: str | None):
    return frame(
        "select coalesce(carc_code, 'none given') as carc_code, "
        "coalesce(carc_reason_description, reason_code, 'no reason code') as reason, "
        "count(*) as denials, count(distinct claim_id) as claims "
        "from marts.fct_transactions where transaction_type = 'denial' "
        "and posted_date between ? and ? and " + _scoped() + " "
        "group by all order by denials desc",
        start,
        end,
        *_scope_params(location, provider),
    )


def first_responses_by_payer(start: date, end: date, location: str | None, provider: str | None):
    """Claims whose first payer response fell in the window, and how many were denied."""
    return frame(
        "select c.payer_id, coalesce(p.payer_name, c.payer_id, 'unknown payer') as payer_name, "
        "c.financial_class, count(*) as claims_responded, "
        "count(*) filter (where c.is_initial_denial) as claims_denied "
        "from marts.fct_claims c left join marts.dim_payers p using (payer_id) "
        "where c.first_response_date between ? and ? and "
        + _scoped("c.")
        + " group by all order by claims_denied desc",
        start,
        end,
        *_scope_params(location, provider),
    )


def ar_by_payer(location: str | None, provider: str | None):
    """Open claim balances today (as published), by payer."""
    return frame(
        "select c.payer_id, coalesce(p.payer_name, c.payer_id, 'unknown payer') as payer_name, "
        "c.financial_class, count(*) as open_claims, sum(c.ar_balance)::double as ar_balance "
        "from marts.fct_claims c left join marts.dim_payers p using (payer_id) "
        "where c.ar_balance <> 0 and " + _scoped("c.") + " group by all order by ar_balance desc",
        *_scope_params(location, provider),
    )


def charges_by_payer_cpt(start: date, end: date, location: str | None, provider: str | None):
    return frame(
        "select ch.payer_id, "
        "coalesce(p.payer_name, ch.payer_id, 'unknown payer') as payer_name, ch.cpt_code, "
        "count(*) as charge_lines, sum(ch.units) as units, "
        "sum(ch.charge_amount)::double as gross_charges, sum(ch.work_rvus)::double as work_rvus "
        "from marts.fct_charges ch left join marts.dim_payers p using (payer_id) "
        "where ch.service_date between ? and ? "
        "and (? is null or ch.location_id = ?) and (? is null or ch.rendering_provider_id = ?) "
        "group by all order by gross_charges desc",
        start,
        end,
        *_scope_params(location, provider),
    )


def payer_yield(start: date, end: date, location: str | None):
    """Charges and payments by financial class over a window: the what-if's collection yield."""
    return frame(
        "with ch as (select financial_class, sum(charge_amount)::double as gross_charges "
        "from marts.fct_charges where service_date between ? and ? "
        "and (? is null or location_id = ?) group by all), "
        "pay as (select c.financial_class, sum(t.payment)::double as payments "
        "from marts.fct_transactions t join marts.fct_claims c using (claim_id) "
        "where t.posted_date between ? and ? and (? is null or t.location_id = ?) "
        "group by all) "
        "select financial_class, coalesce(gross_charges, 0) as gross_charges, "
        "coalesce(payments, 0) as payments from ch full join pay using (financial_class) "
        "order by financial_class",
        start,
        end,
        location,
        location,
        start,
        end,
        location,
        location,
    )


def non_labor_by_account(start: date, end: date, location: str | None):
    """Monthly GL actuals by account, from the published budget-variance rows."""
    return frame(
        "select period_start, scope_id, replace(kpi, 'budget_variance_', '') as account, "
        "numerator as actual, denominator as budget from marts.kpi_values "
        "where period_grain = 'month' and starts_with(kpi, 'budget_variance_') "
        "and kpi not in ('budget_variance_completed_visits', 'budget_variance_gross_charges', "
        "'budget_variance_collections', 'budget_variance_labor_cost') "
        "and period_start between ? and ? and scope = ? and scope_id = ? "
        "order by period_start, account",
        start,
        end,
        "location" if location else "practice",
        location or "all",
    )


# -- data quality -------------------------------------------------------------------------


def dq_table(name: str) -> pd.DataFrame:
    allowed = {
        "dq_deliveries",
        "dq_freshness",
        "dq_orphans",
        "dq_rejected_by_reason",
        "dq_rejected_rows",
        "dq_unmatched_cpt",
        "dq_wait_violations",
    }
    if name not in allowed:
        raise ValueError(f"not a data-quality table: {name}")
    return frame(f"select * from marts.{name}")
