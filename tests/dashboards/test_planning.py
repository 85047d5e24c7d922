"""The budget page's planning arithmetic, checked against hand-computed numbers."""

from __future__ import annotations

import math
from datetime import date

import pandas as pd
import pytest

from dashboards.planning import Baseline, Scenario, outcome, run_rate_forecast


def months(year: int, values: list[float], first_month: int = 1) -> pd.Series:
    return pd.Series(values, index=[date(year, first_month + i, 1) for i in range(len(values))])


def test_run_rate_is_the_last_three_months_and_the_interval_widens_with_months_left():
    # Jan..Oct 2026 complete: 100 each, except Aug-Oct at 110, 120, 130.
    monthly = months(2026, [100] * 7 + [110, 120, 130])
    result = run_rate_forecast(monthly, 2026)
    assert result.year_to_date == 1060
    assert result.run_rate == 120
    assert result.months_left == 2
    assert result.total == 1060 + 2 * 120
    sd = pd.Series([100] * 7 + [110, 120, 130]).std(ddof=1)
    assert result.high - result.total == pytest.approx(1.96 * sd * math.sqrt(2))
    assert list(result.projected["month"]) == [date(2026, 11, 1), date(2026, 12, 1)]


def test_forecast_of_a_year_with_no_complete_month_yet_uses_last_year():
    result = run_rate_forecast(months(2025, [10, 20, 30], first_month=10), 2026)
    assert result.year_to_date == 0
    assert result.months_left == 12
    assert result.total == 12 * 20


BASE = Baseline(
    visits=1000,
    collections=100_000,
    labor_cost=60_000,
    non_labor_cost=20_000,
    provider_fte=4,
    no_show_rate=0.10,
    charges_by_class={"commercial": 100_000, "medicare": 100_000},
    payments_by_class={"commercial": 60_000, "medicare": 40_000},
)


def test_no_change_reproduces_the_baseline():
    result = outcome(BASE, Scenario())
    assert result == pytest.approx(
        {
            "visits": 1000,
            "collections": 100_000,
            "operating_cost": 80_000,
            "cost_per_visit": 80,
            "operating_margin": 20_000,
        }
    )


def test_one_more_provider_fte_adds_a_quarter_of_visits_and_labour():
    result = outcome(BASE, Scenario(fte_change=1))
    assert result["visits"] == pytest.approx(1250)
    assert result["collections"] == pytest.approx(125_000)
    assert result["operating_cost"] == pytest.approx(60_000 * 1.25 + 20_000)


def test_a_lower_no_show_rate_keeps_more_booked_visits():
    result = outcome(BASE, Scenario(no_show_rate=0.05))
    assert result["visits"] == pytest.approx(1000 * 0.95 / 0.90)
    assert result["operating_cost"] == pytest.approx(80_000)


def test_payer_mix_and_fee_changes_move_collections_per_visit():
    # 10 points of charges to commercial (yield 0.6 vs 0.4): 0.6*0.6 + 0.4*0.4 = 0.52 vs 0.50.
    mix = outcome(BASE, Scenario(mix_class="commercial", mix_change_pts=10))
    assert mix["collections"] == pytest.approx(100_000 * 0.52 / 0.50)
    assert mix["visits"] == pytest.approx(1000)
    # Medicare fees +10%: 0.5*0.6 + 0.5*0.4*1.1 = 0.52.
    fee = outcome(BASE, Scenario(fee_changes={"medicare": 0.10}))
    assert fee["collections"] == pytest.approx(100_000 * 0.52 / 0.50)
