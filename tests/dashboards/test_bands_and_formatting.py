"""Bands read as a manager says them; nulls read "–". Whether a value is in its band is
decided in dbt (marts.kpi_status, its unit tests), never here."""

from __future__ import annotations

from dashboards.app.bands import (
    STATUS_BADGE,
    band_text,
    delta_color,
    worst_first,
)
from dashboards.app.formatting import fmt, fmt_delta, null_reason


def test_band_text_names_the_open_edge():
    assert band_text(30, 40, "days") == "30.0 d – 40.0 d"
    assert band_text(None, 0.0681, "share") == "≤ 6.8%"
    assert band_text(0.95, float("nan"), "share") == "≥ 95.0%"
    assert band_text(None, None, "share") == "no target"


def test_every_published_status_has_a_badge_and_directions_colour_deltas():
    assert set(STATUS_BADGE) >= {"partial", "no_target", "in_band", "out_of_band"}
    assert delta_color("lower_is_better") == "inverse"
    assert delta_color("neutral") == "off"
    assert worst_first("lower_is_better") and not worst_first("higher_is_better")


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
