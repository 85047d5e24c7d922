"""The access rules themselves, on a hand-made directory: every role against every scope,
fact-table filters, the anonymous-peer rule and the small-cell rule with hand-counted
rows. tests/access/test_policy_query.py runs the same rules through the query layer on
the published sample."""

from __future__ import annotations

from datetime import date

import pandas as pd
import polars as pl
import pytest

from dashboards.access import AccessDenied, Principal, Role
from dashboards.access import policy as p
from dashboards.access.small_cells import SMALL_CELL, guards, suppress
from dashboards.app.formatting import suppressed_kpis
from dashboards.reports.figures import KpiTable
from dashboards.reports.periods import parse_period

DIRECTORY = p.Directory(
    frozenset({"L1", "L2"}),
    {"A": "L1", "B": "L1", "C": "L1", "D": "L2", "E": "L2"},
)
ADMIN = Principal("admin", Role.ADMIN)
MANAGER = Principal("manager", Role.MANAGER)
LOCATION = Principal("loc", Role.LOCATION_MANAGER, location_ids=frozenset({"L1"}))
EVERY_LOCATION = Principal("both", Role.LOCATION_MANAGER, location_ids=frozenset({"L1", "L2"}))
PHYSICIAN = Principal("doc", Role.PHYSICIAN, provider_id="A")
BOARD = Principal("board", Role.BOARD)
NO_ROLE = Principal("nobody", None)

EVERYTHING = None  # kpi_ids: every id of the scope
KPI_IDS = {
    ADMIN: {"practice": EVERYTHING, "location": EVERYTHING, "provider": EVERYTHING},
    MANAGER: {"practice": EVERYTHING, "location": EVERYTHING, "provider": EVERYTHING},
    LOCATION: {"practice": set(), "location": {"L1"}, "provider": {"A", "B", "C"}},
    EVERY_LOCATION: {
        "practice": EVERYTHING,
        "location": {"L1", "L2"},
        "provider": {"A", "B", "C", "D", "E"},
    },
    PHYSICIAN: {"practice": set(), "location": set(), "provider": {"A"}},
    BOARD: {"practice": EVERYTHING, "location": EVERYTHING, "provider": set()},
}


@pytest.mark.parametrize("principal", list(KPI_IDS), ids=lambda x: x.username)
@pytest.mark.parametrize("scope", ["practice", "location", "provider"])
def test_kpi_rows_each_role_reads_per_scope(principal, scope):
    expected = KPI_IDS[principal][scope]
    allowed = p.kpi_ids(principal, scope, DIRECTORY)
    assert allowed == (None if expected is None else frozenset(expected))


@pytest.mark.parametrize(
    "principal, scope, ids",
    [
        (LOCATION, "location", ["L2"]),
        (LOCATION, "location", ["L1", "L2"]),
        (LOCATION, "provider", ["D"]),
        (LOCATION, "practice", ["all"]),
        (PHYSICIAN, "provider", ["B"]),
        (PHYSICIAN, "provider", ["A", "B"]),
        (PHYSICIAN, "location", ["L1"]),
        (PHYSICIAN, "practice", ["all"]),
        (BOARD, "provider", ["A"]),
    ],
)
def test_a_named_scope_outside_the_role_is_refused(principal, scope, ids):
    with pytest.raises(AccessDenied, match=f"{principal.role} role"):
        p.require_kpi_ids(principal, scope, ids, DIRECTORY)


@pytest.mark.parametrize(
    "principal, scope, ids",
    [
        (ADMIN, "provider", ["A", "E"]),
        (LOCATION, "location", ["L1"]),
        (LOCATION, "provider", ["A", "C"]),
        (EVERY_LOCATION, "practice", ["all"]),
        (PHYSICIAN, "provider", ["A"]),
        (BOARD, "location", ["L1", "L2"]),
        (BOARD, "practice", ["all"]),
    ],
)
def test_a_named_scope_inside_the_role_is_read(principal, scope, ids):
    p.require_kpi_ids(principal, scope, ids, DIRECTORY)


def test_a_user_with_no_role_reads_nothing_and_may_do_nothing():
    for call in (
        lambda: p.kpi_ids(NO_ROLE, "practice", DIRECTORY),
        lambda: p.detail(NO_ROLE, None, None, DIRECTORY),
        lambda: p.require_data_quality(NO_ROLE, "dq_freshness"),
        lambda: p.require_costs(NO_ROLE),
        lambda: p.breakdown(NO_ROLE, "location", pd.DataFrame({"scope_id": ["L1"]}), DIRECTORY),
    ):
        with pytest.raises(AccessDenied, match="no role"):
            call()
    capabilities = (
        p.may_see_data_quality,
        p.may_read_audit_log,
        p.may_download,
        p.may_build_board_deck,
        p.may_see_costs,
        p.may_see_providers,
    )
    assert not any(capability(NO_ROLE) for capability in capabilities)


def test_capabilities_per_role():
    table = {
        principal.role: (
            p.may_see_data_quality(principal),
            p.may_read_audit_log(principal),
            p.may_download(principal),
            p.may_build_board_deck(principal),
            p.may_see_costs(principal),
            p.may_see_providers(principal),
        )
        for principal in (ADMIN, MANAGER, LOCATION, PHYSICIAN, BOARD)
    }
    assert table == {
        Role.ADMIN: (True, True, True, True, True, True),
        Role.MANAGER: (True, False, True, True, True, True),
        Role.LOCATION_MANAGER: (False, False, True, False, True, True),
        Role.PHYSICIAN: (False, False, True, False, False, True),
        Role.BOARD: (False, False, True, True, True, False),
    }


# -- fact-table detail -------------------------------------------------------------------


@pytest.mark.parametrize(
    "principal, location, provider, expected",
    [
        (ADMIN, None, None, (None, None)),
        (ADMIN, "L2", "E", (("L2",), ("E",))),
        (LOCATION, None, None, (("L1",), None)),  # "All locations" = all of theirs
        (LOCATION, "L1", "B", (("L1",), ("B",))),
        (EVERY_LOCATION, None, None, (("L1", "L2"), None)),
        (PHYSICIAN, None, None, (None, ("A",))),  # "All providers" = themselves
        (PHYSICIAN, "L2", "A", (("L2",), ("A",))),
    ],
)
def test_fact_table_detail_allowed(principal, location, provider, expected):
    detail = p.detail(principal, location, provider, DIRECTORY)
    assert (detail.locations, detail.providers) == expected


@pytest.mark.parametrize(
    "principal, location, provider",
    [
        (LOCATION, "L2", None),
        (LOCATION, None, "D"),
        (PHYSICIAN, None, "B"),
        (PHYSICIAN, "L1", "B"),
        (BOARD, None, None),
        (BOARD, "L1", None),
    ],
)
def test_fact_table_detail_refused(principal, location, provider):
    with pytest.raises(AccessDenied):
        p.detail(principal, location, provider, DIRECTORY)


ALL_DQ = {"dq_freshness", "dq_orphans", "dq_rejected_rows"}


@pytest.mark.parametrize(
    "principal, readable, in_reports",
    [
        (ADMIN, ALL_DQ, "detail"),
        (MANAGER, ALL_DQ, "detail"),
        (LOCATION, {"dq_freshness"}, "none"),
        (PHYSICIAN, {"dq_freshness"}, "none"),
        (BOARD, {"dq_freshness"}, "counts"),
    ],
)
def test_data_quality_tables(principal, readable, in_reports):
    for table in ("dq_freshness", "dq_orphans", "dq_rejected_rows"):
        if table in readable:
            p.require_data_quality(principal, table)
        else:
            with pytest.raises(AccessDenied, match="data-quality"):
                p.require_data_quality(principal, table)
    assert p.data_quality_in_reports(principal) == in_reports


def test_costs_are_refused_to_physicians_only():
    for principal in (ADMIN, MANAGER, LOCATION, BOARD):
        p.require_costs(principal)
    with pytest.raises(AccessDenied, match="cost"):
        p.require_costs(PHYSICIAN)


# -- peers -------------------------------------------------------------------------------


def provider_rows(values: dict[str, float | None], kpi: str = "k") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "scope_id": list(values),
            "kpi": kpi,
            "value": list(values.values()),
            "numerator": [10.0] * len(values),
            "denominator": [20.0] * len(values),
        }
    )


def test_two_peers_show_nothing_but_the_own_row():
    shown = p.breakdown(PHYSICIAN, "provider", provider_rows({"A": 1, "B": 2, "C": 3}), DIRECTORY)
    assert shown["scope_id"].tolist() == ["A"]
    assert shown["value"].tolist() == [1]


def test_three_peers_show_as_anonymous_dots_sorted_by_value():
    rows = provider_rows({"A": 1.0, "E": 0.5, "B": 9.0, "C": 4.0})
    shown = p.breakdown(PHYSICIAN, "provider", rows, DIRECTORY)
    assert shown["scope_id"].tolist() == ["A", p.PEER, p.PEER, p.PEER]
    assert shown["value"].tolist() == [1.0, 0.5, 4.0, 9.0]
    own = shown.iloc[0]
    assert (own["numerator"], own["denominator"]) == (10.0, 20.0)
    assert shown.iloc[1:][["numerator", "denominator"]].isna().all().all()


def test_more_peers_show_every_value_and_no_id():
    values = {"A": 3.0, **{f"P{i:02d}": float(i) for i in range(12)}}
    shown = p.breakdown(PHYSICIAN, "provider", provider_rows(values), DIRECTORY)
    assert set(shown["scope_id"]) == {"A", p.PEER}
    assert sorted(shown.loc[shown["scope_id"] == p.PEER, "value"]) == [float(i) for i in range(12)]


def test_peers_without_a_value_do_not_count_towards_three():
    rows = provider_rows({"A": 1.0, "B": 2.0, "C": 3.0, "D": None, "E": None})
    assert p.breakdown(PHYSICIAN, "provider", rows, DIRECTORY)["scope_id"].tolist() == ["A"]


def test_the_peer_rule_is_judged_per_kpi_and_period():
    week1, week2 = pd.Timestamp(date(2026, 1, 5)), pd.Timestamp(date(2026, 1, 12))
    rows = pd.concat(
        [
            provider_rows({"A": 1.0, "B": 2.0, "C": 3.0, "D": 4.0}).assign(period_start=week1),
            provider_rows({"A": 1.0, "B": 2.0, "C": 3.0}).assign(period_start=week2),
        ]
    )
    shown = p.breakdown(PHYSICIAN, "provider", rows, DIRECTORY)
    peers = shown[shown["scope_id"] == p.PEER]
    assert set(peers["period_start"]) == {week1} and len(peers) == 3
    assert len(shown[shown["scope_id"] == "A"]) == 2


def test_breakdowns_of_other_roles_keep_ids_but_only_their_own():
    rows = provider_rows({"A": 1.0, "B": 2.0, "D": 3.0})
    assert p.breakdown(LOCATION, "provider", rows, DIRECTORY)["scope_id"].tolist() == ["A", "B"]
    assert p.breakdown(ADMIN, "provider", rows, DIRECTORY)["scope_id"].tolist() == ["A", "B", "D"]
    assert p.breakdown(BOARD, "provider", rows, DIRECTORY).empty
    locations = pd.DataFrame({"scope_id": ["L1", "L2"], "value": [1.0, 2.0]})
    assert p.breakdown(PHYSICIAN, "location", locations, DIRECTORY).empty
    assert p.breakdown(LOCATION, "location", locations, DIRECTORY)["scope_id"].tolist() == ["L1"]


# -- small cells -------------------------------------------------------------------------

WEEK = pd.Timestamp(date(2026, 3, 2))


def kpi_rows(*rows) -> pd.DataFrame:
    return pd.DataFrame(
        [("week", WEEK, "location", "L1", kpi, v, n, d) for kpi, v, n, d in rows],
        columns=[
            "period_grain",
            "period_start",
            "scope",
            "scope_id",
            "kpi",
            "value",
            "numerator",
            "denominator",
        ],
    )


@pytest.mark.parametrize("visits", range(0, SMALL_CELL + 2))
def test_counts_of_1_to_10_and_what_is_built_on_them_are_suppressed(visits):
    rows = kpi_rows(
        ("completed_visits", float(visits), float(visits), None),
        ("cycle_time_min_p50", 31.0, None, None),
        ("charge_lag_days", 3.0, None, None),
        ("cost_per_visit", 500.0, 3500.0, float(visits)),
        # Counts of its own, both large, but denominator - numerator = completed visits.
        ("no_show_rate", 0.5, 30.0, 30.0 + visits),
        ("payments", 1234.0, 1234.0, None),  # money: never a small cell
    )
    shown = suppress(rows, rows).set_index("kpi")
    small = 0 < visits < SMALL_CELL
    for kpi in (
        "completed_visits",
        "cycle_time_min_p50",
        "charge_lag_days",
        "cost_per_visit",
        "no_show_rate",
    ):
        assert shown.at[kpi, "suppressed"] == small, kpi
        assert pd.isna(shown.at[kpi, "value"]) == small, kpi
    assert not shown.at["payments", "suppressed"] and shown.at["payments", "value"] == 1234.0


def test_a_rate_is_suppressed_by_either_count_it_is_built_on():
    rows = kpi_rows(
        ("late_cancel_rate", 0.0, 0.0, 40.0),  # zero is no small cell
        ("initial_denial_rate", 0.05, 12.0, 240.0),
        ("new_patient_share", 0.5, 5.0, 10.0),
        ("new_patient_lead_time_days", 14.0, None, None),  # median over new patients
        ("staff_turnover_rate", 0.2, 1.0, 5.0),  # one leaver
    )
    shown = suppress(rows, rows).set_index("kpi")["suppressed"].to_dict()
    assert shown == {
        "late_cancel_rate": False,
        "initial_denial_rate": False,
        "new_patient_share": True,
        "new_patient_lead_time_days": True,
        "staff_turnover_rate": True,
    }


def test_a_median_without_its_guard_row_is_not_judged_small():
    rows = kpi_rows(("lobby_wait_min_p90", 40.0, None, None))
    assert not suppress(rows, rows)["suppressed"].any()
    assert guards("lobby_wait_min_p90") == (("completed_visits", "value"),)


def test_a_board_read_suppressed_month_cannot_be_recovered_from_its_quarter_in_the_deck():
    """The deck reads a quarter from its own kpi_values row; the quarter minus its visible
    months must not give the suppressed month back, so a complement is withheld with it."""
    starts = [date(2026, 7, 1), date(2026, 8, 1), date(2026, 9, 1), date(2026, 7, 1)]
    visits = [40.0, 6.0, 50.0, 96.0]
    rows = pd.DataFrame(
        {
            "period_grain": ["month", "month", "month", "quarter"],
            "period_start": starts,
            "scope": "location",
            "scope_id": "L1",
            "kpi": "completed_visits",
            "value": visits,
            "numerator": visits,
            "denominator": None,
        }
    )
    table = KpiTable(pl.from_pandas(suppress(rows, rows)))
    august = table.cell("completed_visits", parse_period("2026-08"), "location", "L1")
    assert august.suppressed and august.shown is None
    quarter = table.cell("completed_visits", parse_period("2026-Q3"), "location", "L1")
    assert quarter.shown == 96  # the quarter's own row, not a sum the deck makes
    visible = [
        table.cell("completed_visits", parse_period(month), "location", "L1").shown
        for month in ("2026-07", "2026-09")
    ]
    assert None in visible  # 96 - 40 - 50 would read August's 6


def test_pages_name_the_kpis_whose_current_row_is_suppressed():
    rows = kpi_rows(
        ("completed_visits", 4.0, 4.0, None),
        ("cycle_time_min_p50", 31.0, None, None),
        ("payments", 10.0, 10.0, None),
    )
    assert suppressed_kpis(suppress(rows, rows), WEEK) == {"completed_visits", "cycle_time_min_p50"}
    assert suppressed_kpis(suppress(rows, rows), WEEK + pd.Timedelta(days=7)) == set()
    assert suppressed_kpis(rows, WEEK) == set()  # rows read by any other role
