"""Every subtraction a role can make from what it can see recovers no suppressed cell.

The board sees practice and location rows of every grain. The attack below reads all of
them through the query layer, as the board, and then does what issue 22 did by hand,
to a fixed point: derives each count its cell's rows show (a rate's denominator minus its
numerator is another count), subtracts the visible locations from the practice, the
visible finer periods from a coarser one (months from a quarter, weeks from a month:
there a bound, since weeks straddle months), and feeds whatever it learns into the next
round. No count of 1 to 10 may come out exact.

A physician sees anonymous peer values for all providers and narrowed to each home
location: the all-peers list minus every location list must never leave 1 or 2 values.
"""

from __future__ import annotations

import os
from collections import Counter

import duckdb
import pandas as pd
import pytest

from dashboards.access import Principal, Role, acting_as, small_cells
from dashboards.access.policy import PEER
from dashboards.data import query
from pipelines.core.home import Home

BOARD = Principal("board", Role.BOARD)
ADMIN = Principal("admin", Role.ADMIN)
ROW_KPIS = sorted(
    {k for k in small_cells._DEPENDS} | set(small_cells.atom_kpis())  # noqa: SLF001
)
# What each visible row tells about its cell's counts: (atom, {(kpi, part): sign}).
EQUATIONS = [
    ("completed_visits", {("completed_visits", "value"): 1}),
    ("completed_visits", {("visits_per_provider_fte", "numerator"): 1}),
    ("completed_visits", {("cost_per_visit", "denominator"): 1}),
    ("completed_visits", {("labor_cost_per_visit", "denominator"): 1}),
    ("completed_visits", {("budget_variance_completed_visits", "numerator"): 1}),
    ("completed_visits", {("new_patient_share", "denominator"): 1}),
    ("completed_visits", {("no_show_rate", "denominator"): 1, ("no_show_rate", "numerator"): -1}),
    ("no_shows", {("no_show_rate", "numerator"): 1}),
    ("late_cancels", {("late_cancel_rate", "numerator"): 1}),
    ("new_patients", {("new_patient_share", "numerator"): 1}),
    ("denials", {("initial_denial_rate", "numerator"): 1}),
    ("responses", {("initial_denial_rate", "denominator"): 1}),
    ("leavers", {("staff_turnover_rate", "numerator"): 1}),
]


@pytest.fixture(scope="module")
def serving(sample_home: Home):
    previous = os.environ.get(query.HOME_ENV)
    os.environ[query.HOME_ENV] = str(sample_home.root)
    yield sample_home.serving
    if previous is None:
        os.environ.pop(query.HOME_ENV, None)
    else:
        os.environ[query.HOME_ENV] = previous


def _locations(con) -> list[str]:
    return [r[0] for r in con.sql("select location_id from marts.dim_locations").fetchall()]


def _board_view(path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Everything the board can read of the count KPIs, and the truth (as an admin)."""
    with duckdb.connect(str(path), read_only=True) as con:
        spans = con.sql(
            "select period_grain, min(period_start), max(period_start) from marts.kpi_values "
            "group by all"
        ).fetchall()
        locations = _locations(con)
    seen, truth = [], []
    for grain, start, end in spans:
        for scope, ids in (("practice", ["all"]), ("location", locations)):
            args = (ROW_KPIS, grain, scope, ids, start, end)
            with acting_as(BOARD):
                seen.append(query.kpi_series(*args))
            with acting_as(ADMIN):
                truth.append(query.kpi_series(*args))
    return pd.concat(seen, ignore_index=True), pd.concat(truth, ignore_index=True)


def _known_counts(rows: pd.DataFrame) -> dict[tuple, float]:
    """Each count the board's rows state or imply, per cell (atom, grain, start, scope, id)."""
    shown = rows[~rows["suppressed"]]
    values: dict[tuple, dict] = {}
    for grain, start, scope, scope_id, kpi, *parts in shown[
        [*small_cells.KEY, "kpi", *small_cells.PARTS]
    ].itertuples(index=False):
        cell = values.setdefault((grain, pd.Timestamp(start), scope, scope_id), {})
        for part, value in zip(small_cells.PARTS, parts, strict=True):
            if pd.notna(value):
                cell[(kpi, part)] = value
    known: dict[tuple, float] = {}
    for cell, parts in values.items():
        for atom, terms in EQUATIONS:
            if all(term in parts for term in terms):
                known[(atom, *cell)] = sum(sign * parts[t] for t, sign in terms.items())
        # late cancels' denominator minus its numerator is completed visits plus no-shows
        lc = ("late_cancel_rate", "denominator"), ("late_cancel_rate", "numerator")
        if all(t in parts for t in lc):
            both = parts[lc[0]] - parts[lc[1]]
            visits, no_shows = ("completed_visits", *cell), ("no_shows", *cell)
            if visits in known:
                known.setdefault(no_shows, both - known[visits])
            if no_shows in known:
                known.setdefault(visits, both - known[no_shows])
    return known


def _subtract(known: dict, units: list[tuple]) -> dict[tuple, tuple[float, float]]:
    """Every subtraction over the additive relations, to a fixed point: (low, high) of
    each count learned; exact where the finer periods lie inside the coarser one, a
    bound where some straddle it (a week across two months)."""
    exact = dict(known)
    bounds: dict[tuple, tuple[float, float]] = {}
    groups = small_cells.relations(units)
    changed = True
    while changed:
        changed = False
        for parent, *children in groups:
            if parent[3] == "practice" and parent[1] == children[0][1]:
                inside, straddling = children, []  # the practice and its locations
            else:
                end = small_cells.period_end(parent[1], parent[2])
                inside = [
                    c
                    for c in children
                    if c[2] >= parent[2] and small_cells.period_end(c[1], c[2]) <= end
                ]
                straddling = [c for c in children if c not in inside]
            if not all(s in exact for s in straddling):
                continue
            spill = sum(exact[s] for s in straddling)  # parent = inside + 0..spill
            unknown = [c for c in inside if c not in exact]
            if parent in exact and len(unknown) == 1:
                high = exact[parent] - sum(exact[c] for c in inside if c != unknown[0])
                learned, span = unknown[0], (max(high - spill, 0), high)
            elif parent not in exact and not unknown:
                low = sum(exact[c] for c in inside)
                learned, span = parent, (low, low + spill)
            else:
                continue
            if span[0] == span[1]:
                exact[learned] = span[0]
                changed = True
            else:
                bounds[learned] = span
    return {u: (v, v) for u, v in exact.items()} | {
        u: b for u, b in bounds.items() if u not in exact
    }


def test_no_subtraction_recovers_a_suppressed_count_of_the_board(serving):
    seen, truth = _board_view(serving)
    assert seen["suppressed"].any()
    true_counts = small_cells._counts(truth)  # noqa: SLF001
    learned = _subtract(_known_counts(seen), list(true_counts))
    small = {u: c for u, c in true_counts.items() if small_cells.is_small(c)}
    assert small
    disclosed = [
        (u, c) for u, c in small.items() if u in learned and learned[u][0] == learned[u][1]
    ]
    assert not disclosed, disclosed[:5]


def test_each_physician_peer_list_minus_its_location_lists_leaves_none_or_three(serving):
    with duckdb.connect(str(serving), read_only=True) as con:
        providers = con.sql(
            "select provider_id, home_location_id from marts.dim_providers "
            "where provider_id in (select scope_id from marts.kpi_values where scope = 'provider')"
        ).fetchall()
        locations = [
            r[0] for r in con.sql("select location_id from marts.dim_locations").fetchall()
        ]
        kpis = [
            r[0]
            for r in con.sql(
                "select distinct kpi from marts.kpi_values where scope = 'provider' order by 1"
            ).fetchall()
        ]
        ((start, end),) = con.sql(
            "select min(period_start), max(period_start) from marts.kpi_values "
            "where period_grain = 'month'"
        ).fetchall()
    leaks = []
    for provider, _ in providers:
        doctor = Principal(f"dr_{provider}", Role.PHYSICIAN, provider_id=provider)
        with acting_as(doctor):
            everyone = query.kpi_breakdown_window(kpis, "month", start, end, "provider")
            narrowed = [
                query.kpi_breakdown_window(kpis, "month", start, end, "provider", location)
                for location in locations
            ]
        peers = lambda f: f[f["scope_id"] == PEER]  # noqa: E731
        remainder: Counter = Counter(
            map(tuple, peers(everyone)[["kpi", "period_start", "value"]].values.tolist())
        )
        for frame in narrowed:
            remainder.subtract(
                map(tuple, peers(frame)[["kpi", "period_start", "value"]].values.tolist())
            )
        assert all(n >= 0 for n in remainder.values())  # every location list is a sublist
        left = Counter()
        for (kpi, period, _), n in remainder.items():
            left[(kpi, period)] += n
        leaks += [(provider, key, n) for key, n in left.items() if 0 < n < 3]
    assert not leaks, leaks[:5]
