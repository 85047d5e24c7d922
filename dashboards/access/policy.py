"""What each role may read: the one place the rules of issue 7 (docs/access.md) are decided.

The query layer and the reports' `read_serving` ask this module before and after every
read; pages never decide access themselves. Everything here is pure: it judges a
`Principal` against the published directory of locations and providers it is given.

Capabilities, for the app's navigation and buttons (each takes a `Principal`):

- `may_see_data_quality`: the data-quality page and tables (admin, manager).
- `may_read_audit_log`: the audit page (admin).
- `may_download`: CSV/XLSX of a table or chart, which holds only what the page was given
  (every role).
- `may_build_board_deck`: the board deck button (admin, manager, board).
- `may_see_costs`: the cost and budget pages (admin, manager, a location manager for their
  locations, the board as aggregates; not physicians).
- `may_see_providers`: provider-level pages such as productivity (every role but the board).
- `may_see_detail`: sections built on fact-table queries (every role but the board, each
  within its scope).

A principal with no role has none of them, and every read of theirs is refused.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from dashboards.access.principal import AccessDenied, Principal, Role

_EVERYTHING = frozenset({Role.ADMIN, Role.MANAGER})
PEER = "peer"  # what a physician sees instead of another provider's id
MIN_PEERS = 3  # fewer other providers than this in a group and the group shows nothing
# Names no patient, provider or row, and tells every reader that a period's KPIs are
# partial; the other data-quality marts are row-level detail for admins and managers.
DQ_FOR_EVERY_ROLE = frozenset({"dq_freshness"})


@dataclass(frozen=True)
class Directory:
    """The published locations and each provider's home location (dim_providers)."""

    locations: frozenset[str]
    homes: dict[str, str | None]  # provider_id -> home_location_id

    def providers_at(self, locations: frozenset[str]) -> frozenset[str]:
        return frozenset(p for p, home in self.homes.items() if home in locations)


@dataclass(frozen=True)
class Detail:
    """The rows of a fact-table query a principal may read; None means every one."""

    locations: tuple[str, ...] | None
    providers: tuple[str, ...] | None


def role_of(principal: Principal) -> Role:
    if principal.role is None:
        raise AccessDenied(f"user {principal.username!r} has no role")
    return principal.role


def _refuse(principal: Principal, what: str) -> AccessDenied:
    return AccessDenied(f"{what} is not available for the {principal.role} role")


# -- capabilities ------------------------------------------------------------------------


def may_see_data_quality(principal: Principal) -> bool:
    return principal.role in _EVERYTHING


def may_read_audit_log(principal: Principal) -> bool:
    return principal.role is Role.ADMIN


def may_download(principal: Principal) -> bool:
    return principal.role is not None


def may_build_board_deck(principal: Principal) -> bool:
    return principal.role in _EVERYTHING | {Role.BOARD}


def may_see_costs(principal: Principal) -> bool:
    return principal.role in _EVERYTHING | {Role.LOCATION_MANAGER, Role.BOARD}


def may_see_providers(principal: Principal) -> bool:
    return principal.role is not None and principal.role is not Role.BOARD


def may_see_detail(principal: Principal) -> bool:
    return principal.role is not None and principal.role is not Role.BOARD


def suppresses_small_cells(principal: Principal) -> bool:
    return principal.role is Role.BOARD


# -- kpi_values rows ---------------------------------------------------------------------


def kpi_ids(principal: Principal, scope: str, directory: Directory) -> frozenset[str] | None:
    """The scope ids of `scope` whose kpi_values rows the principal may read (None: all)."""
    role = role_of(principal)
    if role in _EVERYTHING:
        return None
    if role is Role.LOCATION_MANAGER:
        mine = principal.location_ids
        return {
            "practice": None if mine >= directory.locations else frozenset(),
            "location": mine,
            "provider": directory.providers_at(mine),
        }.get(scope, frozenset())
    if role is Role.PHYSICIAN:
        return frozenset({principal.provider_id}) if scope == "provider" else frozenset()
    return None if scope in ("practice", "location") else frozenset()  # the board


def require_kpi_ids(
    principal: Principal, scope: str, scope_ids: list[str], directory: Directory
) -> None:
    """Refuse a request for named scope ids unless every one of them is readable."""
    allowed = kpi_ids(principal, scope, directory)
    if allowed is not None and not set(scope_ids) <= allowed:
        raise _refuse(principal, f"{scope}-level data for this selection")


def breakdown(
    principal: Principal, scope: str, rows: pd.DataFrame, directory: Directory
) -> pd.DataFrame:
    """Rows of one scope across its ids, cut to what the principal may see. A physician's
    provider breakdown keeps their own row and the anonymous peer distribution."""
    role = role_of(principal)
    if role is Role.PHYSICIAN and scope == "provider":
        return anonymous_peers(rows, principal.provider_id)
    allowed = kpi_ids(principal, scope, directory)
    return rows if allowed is None else rows[rows["scope_id"].isin(allowed)]


def anonymous_peers(rows: pd.DataFrame, own: str) -> pd.DataFrame:
    """The own provider's rows as they are, and every other provider's value labelled
    `PEER`, in each group (a KPI in a period) that has at least `MIN_PEERS` such values.

    Peers lose their counts (numerator, denominator) and are sorted by value, so neither
    order nor a count ties a dot to a provider; a group of fewer peers shows none, since
    one or two dots beside a known total identify the providers behind them."""
    group = [c for c in ("kpi", "period_start") if c in rows.columns]
    mine = rows[rows["scope_id"] == own]
    peers = rows[(rows["scope_id"] != own) & rows["value"].notna()]
    if group:
        sizes = peers.groupby(group, dropna=False)["scope_id"].transform("size")
    else:
        sizes = pd.Series(len(peers), index=peers.index)
    peers = peers[sizes >= MIN_PEERS].assign(scope_id=PEER)
    for column in ("numerator", "denominator"):
        if column in peers:
            peers[column] = float("nan")
    peers = peers.sort_values([*group, "value"], kind="stable")
    return pd.concat([mine, peers], ignore_index=True)


def peer_groups_shown(rows: pd.DataFrame, own: str, directory: Directory) -> pd.DataFrame:
    """The groups (KPI, period) of a provider breakdown whose peers a physician may see
    narrowed to a home location: one row per group and `home_location_id` shown.

    The all-peers list minus the lists of the locations shown is the peers of the
    locations not shown: when that remainder holds 1 or 2 values, a hidden group of one
    would be recovered by subtraction. So location groups are withheld, smallest first,
    until the remainder holds none or at least `MIN_PEERS` values (complementary
    suppression, as for the board's counts)."""
    group = [c for c in ("kpi", "period_start") if c in rows.columns]
    peers = rows[(rows["scope_id"] != own) & rows["value"].notna()]
    peers = peers.assign(home_location_id=peers["scope_id"].map(directory.homes))
    if not group:
        peers = peers.assign(_all=0)
        group = ["_all"]
    everyone = peers.groupby(group, dropna=False).size().rename("peers")
    homes = (
        peers.dropna(subset=["home_location_id"])
        .groupby([*group, "home_location_id"], dropna=False)
        .size()
        .rename("size")
        .reset_index()
        .join(everyone, on=group)
    )
    homes = homes[(homes["size"] >= MIN_PEERS) & (homes["peers"] >= MIN_PEERS)]
    for _ in range(len(directory.locations) + 1):
        rest = homes["peers"] - homes.groupby(group, dropna=False)["size"].transform("sum")
        lone = (rest > 0) & (rest < MIN_PEERS)
        if not lone.any():
            break
        # In each group with a remainder of 1 or 2, withhold its smallest location too.
        ranked = homes.sort_values(["size", "home_location_id"], kind="stable")
        smallest = ranked[lone.loc[ranked.index]].groupby(group, dropna=False).head(1).index
        homes = homes.drop(index=smallest)
    return homes[[c for c in group if c != "_all"] + ["home_location_id"]].reset_index(drop=True)


# -- fact tables and data quality --------------------------------------------------------


def detail(
    principal: Principal, location: str | None, provider: str | None, directory: Directory
) -> Detail:
    """Which rows of a fact table (fct_*) a query filtered by location and provider (None:
    all the principal may see) may read; a filter value outside the role is refused."""
    role = role_of(principal)
    if role in _EVERYTHING:
        return Detail(_one(location), _one(provider))
    if role is Role.LOCATION_MANAGER:
        mine = principal.location_ids
        if location is not None and location not in mine:
            raise _refuse(principal, "detail of another location")
        if provider is not None and provider not in directory.providers_at(mine):
            raise _refuse(principal, "detail of a provider of another location")
        return Detail(_one(location) or tuple(sorted(mine)), _one(provider))
    if role is Role.PHYSICIAN:
        if provider is not None and provider != principal.provider_id:
            raise _refuse(principal, "detail of another provider")
        return Detail(_one(location), (principal.provider_id,))
    raise _refuse(principal, "fact-table detail")


def _one(value: str | None) -> tuple[str, ...] | None:
    return None if value is None else (value,)


def require_costs(principal: Principal) -> None:
    role_of(principal)
    if not may_see_costs(principal):
        raise _refuse(principal, "cost and budget data")


def require_data_quality(principal: Principal, table: str) -> None:
    role_of(principal)
    if table not in DQ_FOR_EVERY_ROLE and not may_see_data_quality(principal):
        raise _refuse(principal, "data-quality detail")


# Per delivery: which source sent how many rows, and what became of them; no file name,
# checksum or error text (an error can quote a rejected value).
DQ_COUNT_COLUMNS = (
    "delivery_id",
    "source",
    "entity",
    "received_at",
    "status",
    "rows_received",
    "rows_loaded",
    "rows_rejected",
)


def data_quality_in_reports(principal: Principal) -> str:
    """How much of the data-quality marts a report read gets: "detail" for admins and
    managers, "counts" for the board (the deck's data-quality summary: `DQ_COUNT_COLUMNS`,
    rejections and check failures as counts), "none" for everyone else."""
    if may_see_data_quality(principal):
        return "detail"
    return "counts" if may_build_board_deck(principal) else "none"


def provider_directory(
    principal: Principal, providers: pd.DataFrame, directory: Directory
) -> pd.DataFrame:
    """The rows of dim_providers the principal may know exist."""
    allowed = kpi_ids(principal, "provider", directory)
    return providers if allowed is None else providers[providers["provider_id"].isin(allowed)]


def location_directory(principal: Principal, locations: pd.DataFrame) -> pd.DataFrame:
    """The rows of dim_locations the principal may pick: a location manager's own; every
    location for the rest (a location's name identifies no one)."""
    role = role_of(principal)
    if role is Role.LOCATION_MANAGER:
        return locations[locations["location_id"].isin(principal.location_ids)]
    return locations


def offers_all_locations(principal: Principal, directory: Directory) -> bool:
    """Whether the filters offer "All locations": for a location manager it would mean the
    practice's rows, which they read only when every location is theirs."""
    role = role_of(principal)
    return role is not Role.LOCATION_MANAGER or principal.location_ids >= directory.locations


def offers_all_providers(principal: Principal) -> bool:
    """A physician's every view is of themselves: the filters offer no "All providers"."""
    return principal.role is not Role.PHYSICIAN
