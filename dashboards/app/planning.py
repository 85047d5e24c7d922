"""The what-if panel's scenario: a user's adjustments applied to the published baseline.

The baseline (twelve complete months as published, and collections per charge dollar by
payer class) and the run-rate forecast are dbt models (`marts.whatif_baseline`,
`marts.whatif_payer_yield`, `marts.kpi_forecast`); this only carries a user's input
(provider FTE, no-show rate, payer mix, fees) through to its effect, as the budget page
states next to the result. Not a KPI.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Baseline:
    """Trailing twelve complete months as published, for one scope (marts.whatif_baseline
    and marts.whatif_payer_yield)."""

    visits: float
    collections: float
    labor_cost: float
    non_labor_cost: float
    provider_fte: float
    no_show_rate: float
    charges_by_class: dict[str, float]
    payments_by_class: dict[str, float]


@dataclass(frozen=True)
class Scenario:
    fte_change: float = 0.0
    no_show_rate: float | None = None  # None keeps the baseline rate
    mix_class: str | None = None
    mix_change_pts: float = 0.0  # percentage points of gross charges moved to mix_class
    fee_changes: dict[str, float] = field(default_factory=dict)  # class -> fraction (+0.05)


def _shares(charges: dict[str, float]) -> dict[str, float]:
    total = sum(charges.values())
    return {c: (v / total if total else 0.0) for c, v in charges.items()}


def _shifted(shares: dict[str, float], target: str | None, points: float) -> dict[str, float]:
    """Move `points` of share to `target`, taking it from the others pro rata."""
    if not target or target not in shares or not points:
        return shares
    new_target = min(max(shares[target] + points / 100, 0.0), 1.0)
    rest = 1 - shares[target]
    scale = (1 - new_target) / rest if rest else 0.0
    return {c: (new_target if c == target else s * scale) for c, s in shares.items()}


def _collections_per_charge_dollar(base: Baseline, shares: dict[str, float], fees) -> float:
    total_yield = sum(base.payments_by_class.values()) / (sum(base.charges_by_class.values()) or 1)
    result = 0.0
    for cls, share in shares.items():
        charges = base.charges_by_class.get(cls, 0.0)
        payer_yield = base.payments_by_class.get(cls, 0.0) / charges if charges else total_yield
        result += share * payer_yield * (1 + fees.get(cls, 0.0))
    return result


def outcome(base: Baseline, scenario: Scenario) -> dict[str, float]:
    """Visits, collections, operating cost, cost per visit and margin under a scenario.

    Assumptions (shown on the page): visits scale with provider FTE at today's visits per
    FTE, and with the kept share of booked visits (1 − no-show rate); collections per visit
    follow the payer mix through each financial class's collections per charge dollar,
    scaled by a fee change for that class; each added provider FTE brings labour cost at
    today's labour cost per provider FTE (support staff included); non-labour cost stays.
    """
    fte = base.provider_fte or 1.0
    rate = base.no_show_rate if scenario.no_show_rate is None else scenario.no_show_rate
    kept = (1 - rate) / (1 - base.no_show_rate) if base.no_show_rate < 1 else 1.0
    visit_factor = max(fte + scenario.fte_change, 0.0) / fte * kept
    shares = _shares(base.charges_by_class)
    now = _collections_per_charge_dollar(base, shares, {})
    new_shares = _shifted(shares, scenario.mix_class, scenario.mix_change_pts)
    then = _collections_per_charge_dollar(base, new_shares, scenario.fee_changes)
    visits = base.visits * visit_factor
    collections = base.collections * visit_factor * (then / now if now else 1.0)
    labor = base.labor_cost + scenario.fte_change * base.labor_cost / fte
    cost = labor + base.non_labor_cost
    return {
        "visits": visits,
        "collections": collections,
        "operating_cost": cost,
        "cost_per_visit": cost / visits if visits else float("nan"),
        "operating_margin": collections - cost,
    }
