"""A digest is for a week that starts on a Monday: another day is refused, naming the
nearest Monday, before anything is read."""

from __future__ import annotations

import subprocess
from datetime import date

import pytest

from dashboards.reports.digest import nearest_monday, require_monday
from tests.conftest import clinicops_command


@pytest.mark.parametrize(
    ("day", "monday"),
    [
        (date(2026, 11, 16), date(2026, 11, 16)),  # a Monday is itself
        (date(2026, 11, 18), date(2026, 11, 16)),  # Wednesday: back two days
        (date(2026, 11, 19), date(2026, 11, 16)),  # Thursday: back three
        (date(2026, 11, 20), date(2026, 11, 23)),  # Friday: forward three
        (date(2026, 11, 22), date(2026, 11, 23)),  # Sunday: forward one
    ],
)
def test_nearest_monday(day, monday):
    assert nearest_monday(day) == monday


def test_a_monday_passes_and_another_day_is_refused_with_the_nearest_monday():
    assert require_monday(date(2026, 11, 16)) == date(2026, 11, 16)
    with pytest.raises(ValueError, match="2026-11-18 is a Wednesday.*use 2026-11-16"):
        require_monday(date(2026, 11, 18))


def test_the_cli_refuses_a_wednesday_before_reading_the_home(tmp_path):
    proc = subprocess.run(
        [clinicops_command(), "digest", "--home", str(tmp_path), "--week", "2026-11-18"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    message = " ".join(proc.stderr.split())
    assert "Wednesday" in message and "use 2026-11-16" in message
