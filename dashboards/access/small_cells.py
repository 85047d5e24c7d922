"""Small-cell suppression: the one rule the board's reads and the board deck share.

A count of 1 to 10 (visits, appointments, claims, staff leaving), and any rate or median
built on one, is not published to the board, as health-data publication rules require: a
cell that small can point at a patient or an employee. Complementary cells are withheld
with it so that no subtraction the board can make recovers it (`withheld`, below). The
query layer and `read_serving` apply the one pattern judged over the whole published
table, every grain at once, so the deck's quarter and year rows are protected as the
dashboards' are.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

SMALL_CELL = 11  # counts below this (and above zero) are not published

# Which parts of a KPI's row are counts of events or people.
_COUNT_PARTS: dict[str, tuple[str, ...]] = {
    "completed_visits": ("value",),
    "no_show_rate": ("numerator", "denominator"),
    "late_cancel_rate": ("numerator", "denominator"),
    "new_patient_share": ("numerator", "denominator"),
    "initial_denial_rate": ("numerator", "denominator"),
    "staff_turnover_rate": ("numerator",),
    "visits_per_provider_fte": ("numerator",),
    "cost_per_visit": ("denominator",),
    "labor_cost_per_visit": ("denominator",),
    "budget_variance_completed_visits": ("numerator", "denominator"),
}
# Medians carry no count of their own: they are judged by the count they are taken over.
# The charge lag is a median over charge lines, which are billed for visits and have no
# published count: it is judged by the period's and scope's completed visits.
_MEDIAN_OVER = {
    "new_patient_lead_time_days": ("new_patient_share", "numerator"),
    "charge_lag_days": ("completed_visits", "value"),
}
_VISIT_MEDIANS = ("lobby_wait_min", "wait_for_provider_min", "cycle_time_min")

KEY = ["period_grain", "period_start", "scope", "scope_id"]
PARTS = ("value", "numerator", "denominator")


def guards(kpi: str) -> tuple[tuple[str, str], ...]:
    """The counts a KPI's cell is judged by, as (kpi, part) pairs of the same period and
    scope: its own count parts, or for a median the count of events it is taken over."""
    if kpi.removesuffix("_p50").removesuffix("_p90") in _VISIT_MEDIANS:
        return (("completed_visits", "value"),)
    if kpi in _MEDIAN_OVER:
        return (_MEDIAN_OVER[kpi],)
    return tuple((kpi, part) for part in _COUNT_PARTS.get(kpi, ()))


def guard_kpis(kpis) -> set[str]:
    """Every KPI whose row must be read to judge these KPIs' rows."""
    return {guard for kpi in kpis for guard, _ in guards(kpi)}


def is_small(count: float | None) -> bool:
    return count is not None and not pd.isna(count) and 0 < count < SMALL_CELL


def suppress(rows: pd.DataFrame, guard_rows: pd.DataFrame) -> pd.DataFrame:
    """Rows of `marts.kpi_values` with small cells and their complements nulled and flagged
    `suppressed`, the pattern judged over `guard_rows` (rows of `atom_kpis()`, practice and
    location; overlapping `rows` is fine)."""
    return suppress_withheld(rows, withheld(guard_rows))


# -- complementary suppression -------------------------------------------------------------
#
# Suppressing the small cells alone is undone by subtraction: the practice's count minus
# the visible locations' is the hidden location's, a month's count bounds its weeks', and
# a rate's denominator minus its numerator is another KPI's count. The board's reads
# therefore follow the cell-suppression practice of statistical disclosure control
# (Hundepool et al., *Statistical Disclosure Control*, 2012, ch. 4 "Magnitude tabular
# data" / secondary suppression; CMS's cell-size suppression policy: counts of 1 to 10
# are withheld together with complementary cells so they cannot be derived):
#
# - the unit suppressed is a *count* (an atom below) in a cell (period and scope), and a
#   KPI row is withheld when any count it is built on is withheld, so no visible row
#   holds a withheld count or lets one be computed from the others in its cell;
# - a count of 1 to 10 is withheld (primary); then, in every additive relation the board
#   can see (the practice = its locations; a coarser period = the finer periods that
#   overlap it, for every pair of grains), a relation never has exactly one withheld
#   count: one more is withheld (secondary), the cell with the smallest non-zero count,
#   preferring one that also settles another relation, until nothing changes.

# Where each count is published: (kpi, part). Each is additive over locations and days.
ATOMS: dict[str, tuple[str, str]] = {
    "completed_visits": ("completed_visits", "value"),
    "no_shows": ("no_show_rate", "numerator"),
    "late_cancels": ("late_cancel_rate", "numerator"),
    "new_patients": ("new_patient_share", "numerator"),
    "denials": ("initial_denial_rate", "numerator"),
    "responses": ("initial_denial_rate", "denominator"),
    "leavers": ("staff_turnover_rate", "numerator"),
}
_ATOM_AT = {place: atom for atom, place in ATOMS.items()}
# The counts each KPI's row shows or lets be computed: the no-show rate's denominator is
# completed visits plus no-shows, the late-cancel rate's adds late cancels to that.
_DEPENDS: dict[str, tuple[str, ...]] = {
    "completed_visits": ("completed_visits",),
    "visits_per_provider_fte": ("completed_visits",),
    "cost_per_visit": ("completed_visits",),
    "labor_cost_per_visit": ("completed_visits",),
    "budget_variance_completed_visits": ("completed_visits",),
    "new_patient_share": ("new_patients", "completed_visits"),
    "no_show_rate": ("no_shows", "completed_visits"),
    "late_cancel_rate": ("late_cancels", "no_shows", "completed_visits"),
    "initial_denial_rate": ("denials", "responses"),
    "staff_turnover_rate": ("leavers",),
}
# How long each published grain's period is, from its period_start: a new grain must be
# added here, or the board's reads refuse it rather than leave its sums unprotected.
GRAIN_MONTHS = {"month": 1, "quarter": 3, "year": 12}
GRAIN_DAYS = {"week": 7}
BOARD_SCOPES = ("practice", "location")

Unit = tuple[str, str, pd.Timestamp, str, str]  # atom, grain, period_start, scope, scope_id


def depends(kpi: str) -> tuple[str, ...]:
    """The counts a KPI's row is built on (medians: the count they are taken over)."""
    if kpi in _DEPENDS:
        return _DEPENDS[kpi]
    return tuple(_ATOM_AT[guard] for guard in guards(kpi) if guard in _ATOM_AT)


def atom_kpis() -> list[str]:
    """The KPIs whose rows carry the counts (what `withheld` must be given)."""
    return sorted({kpi for kpi, _ in ATOMS.values()})


def period_end(grain: str, start: pd.Timestamp) -> pd.Timestamp:
    if grain in GRAIN_DAYS:
        return start + pd.Timedelta(days=GRAIN_DAYS[grain])
    if grain in GRAIN_MONTHS:
        return start + pd.DateOffset(months=GRAIN_MONTHS[grain])
    raise ValueError(f"small cells: no period length for grain {grain!r} (add it to GRAIN_*)")


def _counts(rows: pd.DataFrame) -> dict[Unit, float]:
    """Each count of each board-visible cell, from the rows of `atom_kpis()`."""
    rows = rows[rows["scope"].isin(BOARD_SCOPES)]
    counts: dict[Unit, float] = {}
    for atom, (kpi, part) in ATOMS.items():
        mine = rows[rows["kpi"] == kpi]
        for grain, start, scope, scope_id, count in mine[[*KEY, part]].itertuples(index=False):
            counts[(atom, grain, pd.Timestamp(start), scope, scope_id)] = (
                0.0 if pd.isna(count) else float(count)
            )
    return counts


def relations(units) -> list[tuple[Unit, ...]]:
    """Every additive relation among the units, the whole first: a practice and its
    locations in a period; a period and the finer periods that overlap it, for each
    scope, grain pair and count."""
    found: list[tuple[Unit, ...]] = []
    by_period: dict[tuple, list[Unit]] = {}
    by_scope: dict[tuple, dict[str, list[Unit]]] = {}
    for unit in units:
        atom, grain, start, scope, scope_id = unit
        by_period.setdefault((atom, grain, start), []).append(unit)
        by_scope.setdefault((atom, scope, scope_id), {}).setdefault(grain, []).append(unit)
    for members in by_period.values():
        totals = [u for u in members if u[3] == "practice"]
        parts = sorted(u for u in members if u[3] != "practice")
        if totals and parts:
            found.append((totals[0], *parts))
    for grains in by_scope.values():
        spans = {
            grain: sorted((u[2], period_end(grain, u[2]), u) for u in members)
            for grain, members in grains.items()
        }
        for coarse, parents in spans.items():
            for fine, children in spans.items():
                if fine == coarse or _length(fine) >= _length(coarse):
                    continue
                for start, end, parent in parents:
                    inside = [u for s, e, u in children if s < end and e > start]
                    if inside:
                        found.append((parent, *inside))
    return found


def _length(grain: str) -> int:
    return GRAIN_DAYS.get(grain) or GRAIN_MONTHS[grain] * 30


def withheld(rows: pd.DataFrame) -> frozenset[Unit]:
    """The counts the board may not see, primary and secondary, over every published
    practice and location row of `atom_kpis()` (all grains and periods at once: a pattern
    judged on part of the table could be undone with another part)."""
    counts = _counts(rows)
    hidden = {unit for unit, count in counts.items() if is_small(count)}
    groups = relations(counts)
    member_of: dict[Unit, list[int]] = {}
    for index, group in enumerate(groups):
        for unit in group:
            member_of.setdefault(unit, []).append(index)

    def lone(index: int) -> bool:
        return sum(u in hidden for u in groups[index]) == 1

    pending = [i for i in range(len(groups)) if lone(i)]
    while pending:
        index = pending.pop()
        if not lone(index):
            continue
        open_ = [u for u in groups[index] if u not in hidden]
        if not open_:
            continue
        # Fewest extra cells: one that settles other lone relations too; then the
        # smallest non-zero count (least information lost; zero protects nothing).
        chosen = min(
            open_,
            key=lambda u: (
                -sum(lone(j) for j in member_of[u] if j != index),
                counts[u] == 0,
                counts[u],
                u,
            ),
        )
        hidden.add(chosen)
        pending.extend(j for j in member_of[chosen] if lone(j))
    return frozenset(hidden)


def withheld_flags(rows: Iterable[tuple], hidden: frozenset[Unit]) -> list[bool]:
    """Whether each row (period_grain, period_start, scope, scope_id, kpi, value,
    numerator, denominator) is withheld: built on a withheld count, or holding a small
    count of its own (a budget's visit count is not an atom but is judged all the same)."""
    flags = []
    for grain, start, scope, scope_id, kpi, *parts in rows:
        own = dict(zip(PARTS, parts, strict=True))
        start = pd.Timestamp(start)
        flags.append(
            any((atom, grain, start, scope, scope_id) in hidden for atom in depends(kpi))
            or any(is_small(own[part]) for part in _COUNT_PARTS.get(kpi, ()))
        )
    return flags


def suppress_withheld(rows: pd.DataFrame, hidden: frozenset[Unit]) -> pd.DataFrame:
    """Rows of `marts.kpi_values` with every withheld row nulled and flagged `suppressed`."""
    out = rows.assign(
        suppressed=withheld_flags(rows[[*KEY, "kpi", *PARTS]].itertuples(index=False), hidden)
    )
    for part in PARTS:
        if part in out:
            out[part] = out[part].astype("float64").mask(out["suppressed"])
    return out
