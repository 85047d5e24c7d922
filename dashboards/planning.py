"""Planning arithmetic on published numbers: a run-rate forecast of the year and a
what-if scenario. Neither is a KPI: both take published monthly values as given and
project them forward under assumptions the budget page lists next to the result.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date

import pandas as pd

Z_95 = 1.96
RUN_RATE_MONTHS = 3
VOLATILITY_MONTHS = 12


@dataclass(frozen=True)
class Forecast:
    year_to_date: float
    run_rate: float  # per month
    months_left: int
    total: float
    low: float
    high: float
    projected: pd.DataFrame  # month, value, low, high for the months still to come


def run_rate_forecast(monthly: pd.Series, year: int) -> Forecast:
    """Year total = actual complete months + (months left × mean of the last three).

    The interval treats each remaining month as the run rate plus an independent
    deviation with the spread (standard deviation) of the last twelve complete months,
    so the year's 95% half-width is 1.96 × sd × √(months left). `monthly` is indexed by
    month start and holds complete months only.
    """
    monthly = monthly.dropna().sort_index()
    if monthly.empty:
        raise ValueError("no complete month to forecast from")
    last = monthly.index[-1]
    in_year = monthly[[m.year == year for m in monthly.index]]
    year_to_date = float(in_year.sum())
    run_rate = float(monthly.iloc[-RUN_RATE_MONTHS:].mean())
    recent = monthly.iloc[-VOLATILITY_MONTHS:]
    spread = float(recent.std(ddof=1)) if len(recent) > 1 else 0.0
    months = (
        [date(year, m, 1) for m in range(last.month + 1, 13)]
        if last.year == year
        else [date(year, m, 1) for m in range(1, 13)]
    )
    projected = pd.DataFrame(
        {
            "month": months,
            "value": run_rate,
            "low": run_rate - Z_95 * spread,
            "high": run_rate + Z_95 * spread,
        }
    )
    half = Z_95 * spread * math.sqrt(len(months))
    total = year_to_date + run_rate * len(months)
    return Forecast(
        year_to_date, run_rate, len(months), total, total - half, total + half, projected
    )


@dataclass(frozen=True)
class Baseline:
    """Trailing twelve complete months as published, for one scope."""

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
