"""Every role through the query layer and `read_serving` on the published sample: what
each read returns, what is refused, that a physician never sees another provider's id,
that the board's small cells are suppressed, and that the cache never hands one
principal another's answer.

The sample has 3 locations: L01 with 5 providers (PRV0002, 3, 5, 7, 16), L02 with 2
(PRV0004, PRV0009) and L03 with 9."""

from __future__ import annotations

import os
from datetime import date

import duckdb
import pandas as pd
import pytest

from dashboards.access import AccessDenied, Principal, Role, acting_as, set_current, small_cells
from dashboards.access.policy import PEER
from dashboards.data import query
from dashboards.data.serving import read_serving
from pipelines.core.home import Home

ADMIN = Principal("admin", Role.ADMIN)
MANAGER = Principal("manager", Role.MANAGER)
LOCATION = Principal("loc", Role.LOCATION_MANAGER, location_ids=frozenset({"L01"}))
PHYSICIAN = Principal("doc", Role.PHYSICIAN, provider_id="PRV0003")  # home L01
LONELY = Principal("doc2", Role.PHYSICIAN, provider_id="PRV0004")  # home L02: 1 peer there
BOARD = Principal("board", Role.BOARD)
NO_ROLE = Principal("nobody", None)
ROLES = [ADMIN, MANAGER, LOCATION, PHYSICIAN, BOARD]
L01 = {"PRV0002", "PRV0003", "PRV0005", "PRV0007", "PRV0016"}

WEEK = date(2026, 11, 9)
START, END = date(2026, 8, 3), date(2026, 11, 15)
KPIS = ["completed_visits", "no_show_rate", "cycle_time_min_p50", "work_rvus"]


@pytest.fixture(scope="module", autouse=True)
def home(sample_home: Home):
    previous = os.environ.get(query.HOME_ENV)
    os.environ[query.HOME_ENV] = str(sample_home.root)
    yield sample_home
    if previous is None:
        os.environ.pop(query.HOME_ENV, None)
    else:
        os.environ[query.HOME_ENV] = previous


def read(principal: Principal, call):
    with acting_as(principal):
        return call()


def ids(frame: pd.DataFrame) -> set[str]:
    return set(frame["scope_id"])


# -- directories, calendar, targets ------------------------------------------------------


def test_directories_per_role():
    providers = {p.role: set(read(p, query.providers)["provider_id"]) for p in ROLES}
    locations = {p.role: set(read(p, query.locations)["location_id"]) for p in ROLES}
    assert len(providers[Role.ADMIN]) == 16 and providers[Role.MANAGER] == providers[Role.ADMIN]
    assert providers[Role.LOCATION_MANAGER] == L01
    assert providers[Role.PHYSICIAN] == {"PRV0003"}
    assert providers[Role.BOARD] == set()
    assert locations[Role.LOCATION_MANAGER] == {"L01"}
    assert all(
        locations[r] == {"L01", "L02", "L03"} for r in locations if r != Role.LOCATION_MANAGER
    )
    assert [read(p, query.offers_all_locations) for p in ROLES] == [True, True, False, True, True]
    assert [read(p, query.offers_all_providers) for p in ROLES] == [True, True, True, False, True]


@pytest.mark.parametrize("principal", ROLES, ids=lambda p: p.username)
def test_calendar_and_targets_are_read_by_every_role(principal):
    assert read(principal, query.as_of) == date(2026, 11, 22)
    assert WEEK in read(principal, lambda: query.period_starts("week"))
    assert "no_show_rate" in set(read(principal, query.targets)["kpi"])


@pytest.mark.parametrize(
    "call",
    [
        query.as_of,
        query.providers,
        query.locations,
        query.targets,
        lambda: query.kpi_series(KPIS, "week", "practice", ["all"], START, END),
        lambda: query.kpi_breakdown("no_show_rate", "week", WEEK, "location"),
        lambda: query.wait_heatmap(START, END, None, None),
        lambda: query.dq_table("dq_freshness"),
    ],
)
def test_nobody_signed_in_and_no_role_read_nothing(call):
    set_current(None)
    with pytest.raises(AccessDenied, match="nobody is signed in"):
        call()
    with pytest.raises(AccessDenied, match="no role"):
        read(NO_ROLE, call)


# -- kpi_values: single-scope requests ---------------------------------------------------

SERIES = [
    # principal, scope, scope ids, readable
    (ADMIN, "practice", ["all"], True),
    (ADMIN, "provider", ["PRV0004", "PRV0010"], True),
    (MANAGER, "location", ["L02"], True),
    (LOCATION, "location", ["L01"], True),
    (LOCATION, "provider", ["PRV0002", "PRV0016"], True),
    (LOCATION, "practice", ["all"], False),
    (LOCATION, "location", ["L02"], False),
    (LOCATION, "location", ["L01", "L03"], False),
    (LOCATION, "provider", ["PRV0004"], False),
    (PHYSICIAN, "provider", ["PRV0003"], True),
    (PHYSICIAN, "provider", ["PRV0002"], False),
    (PHYSICIAN, "provider", ["PRV0003", "PRV0002"], False),
    (PHYSICIAN, "location", ["L01"], False),
    (PHYSICIAN, "practice", ["all"], False),
    (BOARD, "practice", ["all"], True),
    (BOARD, "location", ["L01", "L02", "L03"], True),
    (BOARD, "provider", ["PRV0003"], False),
]


@pytest.mark.parametrize("principal, scope, scope_ids, readable", SERIES)
def test_kpi_series_and_families_per_role_and_scope(principal, scope, scope_ids, readable):
    calls = (
        lambda: query.kpi_series(KPIS, "week", scope, scope_ids, START, END),
        lambda: query.kpi_like("payer_mix_", "month", scope, scope_ids, START, END),
    )
    for call in calls:
        if not readable:
            with pytest.raises(AccessDenied, match=f"{principal.role} role"):
                read(principal, call)
            continue
        got, everything = read(principal, call), read(ADMIN, call)
        assert not got.empty and ids(got) == set(scope_ids)
        if principal is BOARD:  # values as published where not suppressed
            kept = ~got["suppressed"]
            pd.testing.assert_frame_equal(
                got[kept].drop(columns="suppressed"), everything[kept], check_dtype=False
            )
        else:
            pd.testing.assert_frame_equal(got, everything)


def test_cost_kpis_are_refused_to_a_physician_and_read_by_a_location_manager():
    cost = ["operating_cost", "cost_per_visit"]
    with pytest.raises(AccessDenied):
        read(PHYSICIAN, lambda: query.kpi_series(cost, "month", "practice", ["all"], START, END))
    with pytest.raises(AccessDenied, match="cost"):
        read(PHYSICIAN, lambda: query.non_labor_by_account(START, END, None))
    rows = read(LOCATION, lambda: query.kpi_series(cost, "month", "location", ["L01"], START, END))
    assert set(rows["kpi"]) == set(cost)
    gl = read(LOCATION, lambda: query.non_labor_by_account(START, END, "L01"))
    assert not gl.empty and ids(gl) == {"L01"}
    with pytest.raises(AccessDenied):
        read(LOCATION, lambda: query.non_labor_by_account(START, END, None))  # the practice


# -- kpi_values: breakdowns --------------------------------------------------------------

EVERY = "every id published"
EVERY = None  # every id with a published row
BREAKDOWNS = {
    ADMIN: {"location": EVERY, "provider": EVERY, "practice": EVERY},
    MANAGER: {"location": EVERY, "provider": EVERY, "practice": EVERY},
    LOCATION: {"location": {"L01"}, "provider": L01, "practice": set()},
    BOARD: {"location": EVERY, "provider": set(), "practice": EVERY},
}


@pytest.mark.parametrize("principal", [ADMIN, MANAGER, LOCATION, BOARD], ids=lambda p: p.username)
@pytest.mark.parametrize("scope", ["practice", "location", "provider"])
def test_breakdowns_drop_what_the_role_may_not_see(home, principal, scope):
    with duckdb.connect(str(home.serving), read_only=True) as con:
        published = {
            row[0]
            for row in con.sql(
                "select distinct scope_id from marts.kpi_values where scope = ? "
                "and kpi = 'completed_visits' and period_grain = 'week' and period_start = ?",
                params=[scope, WEEK],
            ).fetchall()
        }
    allowed = BREAKDOWNS[principal][scope]
    expected = published if allowed is EVERY else published & allowed
    one = read(principal, lambda: query.kpi_breakdown("completed_visits", "week", WEEK, scope))
    window = read(
        principal,
        lambda: query.kpi_breakdown_window(["completed_visits"], "week", WEEK, WEEK, scope),
    )
    assert ids(one) == ids(window) == expected
    refused = (LOCATION, "practice"), (BOARD, "provider")
    assert (not expected) == ((principal, scope) in refused)


@pytest.mark.parametrize("scope", ["practice", "location"])
def test_a_physician_breakdown_of_practice_or_locations_is_empty(scope):
    assert read(PHYSICIAN, lambda: query.kpi_breakdown("work_rvus", "week", WEEK, scope)).empty


def test_a_physician_sees_peers_only_as_anonymous_values():
    everyone = read(ADMIN, lambda: query.kpi_breakdown("work_rvus", "week", WEEK, "provider"))
    mine = read(PHYSICIAN, lambda: query.kpi_breakdown("work_rvus", "week", WEEK, "provider"))
    assert mine.iloc[0]["scope_id"] == "PRV0003"
    own = everyone.set_index("scope_id").loc["PRV0003"]
    assert mine.iloc[0]["value"] == own["value"]
    peers = mine[mine["scope_id"] == PEER]
    others = everyone[(everyone["scope_id"] != "PRV0003") & everyone["value"].notna()]
    assert sorted(peers["value"]) == sorted(others["value"])  # the true distribution
    assert peers["value"].is_monotonic_increasing  # ordered by value, not by id
    assert peers[["numerator", "denominator"]].isna().all().all()


def test_peer_groups_narrowed_to_a_location_keep_the_three_peer_rule():
    def window(location):
        return lambda: query.kpi_breakdown_window(
            ["completed_visits"], "week", WEEK, WEEK, "provider", location
        )

    at_l01 = read(PHYSICIAN, window("L01"))
    # PRV0007 (0.5 FTE) has no visit that week: exactly 3 peers at L01, 2 at L02 (too few
    # to show) and 5 at L03, of 10 in all. Shown with L03's, L01's group would let the
    # all-peers list minus both reveal L02's two values: it is withheld as the complement.
    assert at_l01["scope_id"].value_counts().to_dict() == {"PRV0003": 1}
    assert read(PHYSICIAN, window("L03"))["scope_id"].value_counts().to_dict() == {PEER: 5}
    everyone = read(PHYSICIAN, window(None))
    assert everyone["scope_id"].value_counts().to_dict() == {PEER: 10, "PRV0003": 1}
    at_l02 = read(LONELY, window("L02"))  # PRV0009 is the only other provider at L02
    assert at_l02["scope_id"].tolist() == ["PRV0004"]
    assert ids(read(ADMIN, window("L02"))) == {"PRV0004", "PRV0009"}
    assert read(PHYSICIAN, window("L02")).empty  # their own row lives at L01


def test_no_frame_a_physician_gets_names_another_provider():
    others = set(read(ADMIN, query.providers)["provider_id"]) - {"PRV0003"}
    frames = [
        read(PHYSICIAN, query.providers),
        read(PHYSICIAN, lambda: query.kpi_breakdown_window(KPIS, "week", START, END, "provider")),
        read(PHYSICIAN, lambda: query.kpi_breakdown("no_show_rate", "week", WEEK, "provider")),
        read(
            PHYSICIAN, lambda: query.kpi_series(KPIS, "week", "provider", ["PRV0003"], START, END)
        ),
        read(PHYSICIAN, lambda: query.charges_by_payer_cpt(START, END, None, None)),
    ]
    text = " ".join(frame.to_csv() for frame in frames)
    assert not [p for p in others if p in text]


def test_the_cache_never_hands_one_principal_another_answer():
    def breakdown():
        return query.kpi_breakdown("completed_visits", "week", WEEK, "provider")

    first = read(ADMIN, breakdown)
    assert len(read(PHYSICIAN, breakdown)[lambda d: d["scope_id"] != PEER]) == 1
    assert read(BOARD, breakdown).empty
    pd.testing.assert_frame_equal(read(ADMIN, breakdown), first)

    def charges():
        return query.charges_by_payer_cpt(START, END, None, None)

    assert (
        read(PHYSICIAN, charges)["charge_lines"].sum() < read(ADMIN, charges)["charge_lines"].sum()
    )


# -- fact tables -------------------------------------------------------------------------

FACTS = {
    "wait_heatmap": lambda loc, prov: query.wait_heatmap(START, END, loc, prov),
    "denials_by_reason": lambda loc, prov: query.denials_by_reason(START, END, loc, prov),
    "first_responses_by_payer": lambda loc, prov: query.first_responses_by_payer(
        START, END, loc, prov
    ),
    "ar_by_payer": lambda loc, prov: query.ar_by_payer(loc, prov),
    "charges_by_payer_cpt": lambda loc, prov: query.charges_by_payer_cpt(START, END, loc, prov),
}


@pytest.mark.parametrize("fact", sorted(FACTS))
def test_fact_table_detail_per_role(fact):
    call = FACTS[fact]
    # "All" means all the principal may see: the physician's own rows, the manager's location
    for principal, same_as in (
        (PHYSICIAN, (None, "PRV0003")),
        (LOCATION, ("L01", None)),
        (MANAGER, (None, None)),
    ):
        got = read(principal, lambda c=call: c(None, None))
        pd.testing.assert_frame_equal(got, read(ADMIN, lambda c=call, a=same_as: c(*a)))
        assert not got.empty
    assert not read(PHYSICIAN, lambda: call("L01", "PRV0003")).empty
    assert not read(LOCATION, lambda: call("L01", "PRV0016")).empty
    for principal, loc, prov in (
        (PHYSICIAN, None, "PRV0002"),
        (PHYSICIAN, "L01", "PRV0002"),
        (LOCATION, "L02", None),
        (LOCATION, None, "PRV0004"),
        (BOARD, None, None),
        (BOARD, "L01", None),
    ):
        with pytest.raises(AccessDenied):
            read(principal, lambda p=prov, lo=loc: call(lo, p))


def test_whatif_baseline_and_forecast_are_cost_reads_of_their_scope():
    base, classes = read(ADMIN, lambda: query.whatif_baseline("location", "L01"))
    own_base, own_classes = read(LOCATION, lambda: query.whatif_baseline("location", "L01"))
    assert base == own_base and base["visits"] > 0
    pd.testing.assert_frame_equal(own_classes, classes)
    year, months = read(LOCATION, lambda: query.forecast("payments", "location", "L01"))
    assert year["months_left"] == len(months)
    with pytest.raises(AccessDenied):
        read(LOCATION, lambda: query.whatif_baseline("location", "L02"))
    for principal in (PHYSICIAN, BOARD):  # costs (physician) and claim detail (board)
        with pytest.raises(AccessDenied):
            read(principal, lambda p=principal: query.whatif_baseline("practice", "all"))
    with pytest.raises(AccessDenied):
        read(PHYSICIAN, lambda: query.forecast("payments", "practice", "all"))
    year, _ = read(BOARD, lambda: query.forecast("payments", "practice", "all"))
    assert year["forecast"] > 0  # the board reads the practice's budget forecast


# -- data quality ------------------------------------------------------------------------


@pytest.mark.parametrize("principal", ROLES, ids=lambda p: p.username)
def test_data_quality_tables_per_role(principal):
    assert not read(principal, lambda: query.dq_table("dq_freshness")).empty
    for table in sorted(query.DQ_TABLES - {"dq_freshness"}):
        if principal.role in (Role.ADMIN, Role.MANAGER):
            read(principal, lambda t=table: query.dq_table(t))
        else:
            with pytest.raises(AccessDenied, match="data-quality"):
                read(principal, lambda t=table: query.dq_table(t))


# -- board small cells -------------------------------------------------------------------


def small_guard_rows(home: Home, grain: str) -> set[tuple]:
    """Independently, from the serving file: location rows whose own count, or the visit
    count of a wait median, is 1 to 10."""
    with duckdb.connect(str(home.serving), read_only=True) as con:
        return set(
            con.sql(
                "with v as (select * from marts.kpi_values where period_grain = ? "
                "and scope = 'location') "
                "select kpi, scope_id, period_start from v where "
                "(kpi = 'completed_visits' and value between 1 and 10) or "
                "(kpi in ('no_show_rate', 'late_cancel_rate') and "
                "(numerator between 1 and 10 or denominator between 1 and 10)) "
                "union select m.kpi, m.scope_id, m.period_start from v m join v c "
                "on c.kpi = 'completed_visits' and (c.scope_id, c.period_start) = "
                "(m.scope_id, m.period_start) where m.kpi = 'cycle_time_min_p50' "
                "and c.value between 1 and 10",
                params=[grain],
            ).fetchall()
        )


def test_the_board_reads_small_cells_suppressed(home):
    kpis = ["completed_visits", "no_show_rate", "late_cancel_rate", "cycle_time_min_p50"]
    locations = ["L01", "L02", "L03"]
    start, end = date(2024, 11, 1), date(2026, 11, 22)

    def series():
        return query.kpi_series(kpis, "week", "location", locations, start, end)

    board, everyone = read(BOARD, series), read(ADMIN, series)
    flagged = board[board["suppressed"]]
    expected = small_guard_rows(home, "week")
    assert expected, "the sample has small location-weeks (its first and last weeks)"
    shown = {(r.kpi, r.scope_id, pd.Timestamp(r.period_start).date()) for r in flagged.itertuples()}
    small = {(k, s, pd.Timestamp(p).date()) for k, s, p in expected}
    # Every small cell, and the complements that keep it from being subtracted back: the
    # pattern judged independently over the whole published table.
    assert small <= shown
    with duckdb.connect(str(home.serving), read_only=True) as con:
        whole = con.sql(
            "select period_grain, period_start, scope, scope_id, kpi, value, numerator, "
            "denominator from marts.kpi_values where scope in ('practice', 'location')"
        ).df()
    hidden = small_cells.withheld(whole[whole["kpi"].isin(small_cells.atom_kpis())])
    mine = whole[
        (whole["period_grain"] == "week") & (whole["scope"] == "location") & whole["kpi"].isin(kpis)
    ]
    judged = mine[
        small_cells.withheld_flags(
            mine[[*small_cells.KEY, "kpi", *small_cells.PARTS]].itertuples(index=False), hidden
        )
    ]
    assert shown == {
        (r.kpi, r.scope_id, pd.Timestamp(r.period_start).date())
        for r in judged.itertuples()
        if pd.Timestamp(start) <= pd.Timestamp(r.period_start) <= pd.Timestamp(end)
    }
    assert len(shown) > len(small)  # complements were needed on the sample
    assert flagged[["value", "numerator", "denominator"]].isna().all().all()
    kept = ~board["suppressed"]
    pd.testing.assert_frame_equal(
        board[kept].drop(columns="suppressed"), everyone[kept], check_dtype=False
    )
    drill = read(BOARD, lambda: query.kpi_breakdown("completed_visits", "week", start, "location"))
    assert "suppressed" in drill.columns


# -- reports -----------------------------------------------------------------------------


@pytest.mark.parametrize("principal", ROLES, ids=lambda p: p.username)
def test_read_serving_is_scoped_like_the_query_layer(home, principal):
    serving = read(principal, lambda: read_serving(home.serving))
    scopes = {
        scope: set(part["scope_id"].unique().to_list())
        for (scope,), part in serving.kpis.group_by("scope")
    }
    expected = {
        Role.ADMIN: {"practice", "location", "provider"},
        Role.MANAGER: {"practice", "location", "provider"},
        Role.LOCATION_MANAGER: {"location", "provider"},
        Role.PHYSICIAN: {"provider"},
        Role.BOARD: {"practice", "location"},
    }[principal.role]
    assert set(scopes) == expected
    if principal is LOCATION:
        assert scopes == {"location": {"L01"}, "provider": L01}
    if principal is PHYSICIAN:
        assert scopes == {"provider": {"PRV0003"}}
    if principal is BOARD:
        suppressed = serving.kpis.filter("suppressed")
        assert suppressed.height > 0 and suppressed["value"].is_null().all()
        assert set(serving.deliveries.columns) == {
            "delivery_id",
            "source",
            "entity",
            "received_at",
            "status",
            "rows_received",
            "rows_loaded",
            "rows_rejected",
        }
    if principal.role in (Role.ADMIN, Role.MANAGER):
        assert "file_name" in serving.deliveries.columns and serving.dq_counts
    if principal.role in (Role.LOCATION_MANAGER, Role.PHYSICIAN):
        assert serving.deliveries.is_empty() and serving.rejected_by_column.is_empty()
        assert serving.dq_counts == {}
    else:
        assert not serving.deliveries.is_empty()


def test_read_serving_refuses_nobody_and_no_role(home):
    set_current(None)
    with pytest.raises(AccessDenied):
        read_serving(home.serving)
    with pytest.raises(AccessDenied):
        read(NO_ROLE, lambda: read_serving(home.serving))
