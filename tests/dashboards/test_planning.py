"""The what-if scenario on a baseline, checked against hand-computed numbers (the run-rate
forecast is a dbt model with its own unit test: kpi_forecast_run_rate_and_interval)."""

from __future__ import annotations

import pytest

from dashboards.app.planning import Baseline, Scenario, outcome

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
