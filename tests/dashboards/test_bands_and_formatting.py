"""Target bands judge only the bad side of a directional KPI; nulls read "–"."""

from __future__ import annotations

import pytest

from dashboards.bands import Target, shortfall, status
from dashboards.formatting import fmt, fmt_delta, null_reason


def target(direction: str, low=None, high=None, unit="days") -> Target:
    return Target("k", direction, low, high, unit, "test")


@pytest.mark.parametrize(
    ("direction", "value", "expected"),
    [
        ("lower_is_better", 26, "in band"),  # under a 30–40 band is better, not a problem
        ("lower_is_better", 44, "out of band"),
        ("higher_is_better", 26, "out of band"),
        ("higher_is_better", 44, "in band"),
        ("neutral", 26, "out of band"),
        ("neutral", 35, "in band"),
    ],
)
def test_band_status_follows_direction(direction, value, expected):
    assert status(value, target(direction, 30, 40)) == expected


def test_shortfall_is_relative_to_the_band_edge_and_none_without_value_or_band():
    assert shortfall(44, target("lower_is_better", 30, 40)) == pytest.approx(0.1)
    assert shortfall(None, target("lower_is_better", 30, 40)) is None
    assert status(float("nan"), target("lower_is_better", 30, 40)) == "no value"
    assert status(5, target("neutral")) == "no target"


def test_formatting_by_unit():
    assert fmt(None, "share") == "–"
    assert fmt(float("nan"), "money") == "–"
    assert fmt(0.0681, "share") == "6.8%"
    assert fmt(813836.65, "money") == "$813.8k"
    assert fmt(-42523.95, "money") == "-$42.5k"
    assert fmt(24.5497, "money per visit") == "$24.55"
    assert fmt(946, "visits") == "946"
    assert fmt(12.85, "minutes") == "12.8 min"
    assert fmt_delta(-0.01, "share") == "-1.0 pts"
    assert fmt_delta(None, "share") is None


def test_null_reasons_name_the_zero_denominator():
    assert "no completed visits" in null_reason("lobby_wait_min_p90")
    assert "provider FTE" in null_reason("visits_per_provider_fte")
    assert null_reason("something_new")
