"""The periods the dashboard offers a deck for: closed months and closed quarters only,
after the first published month."""

from datetime import date

from dashboards.reports.on_demand import deck_periods
from dashboards.reports.periods import add_months


def test_only_complete_months_and_quarters_newest_first():
    months = [add_months(date(2025, 12, 1), i) for i in range(12)]  # Dec 2025 .. Nov 2026
    monthly, quarterly = deck_periods(months, as_of=date(2026, 11, 22))
    # Nov 2026 is still running on the as-of date; Dec 2025, the first published month,
    # is usually partial at its start and has no month before it to compare with.
    assert [p.code for p in monthly] == [f"2026-{m:02d}" for m in range(10, 0, -1)]
    # Q4 2025 lacks Oct and Nov 2025, Q4 2026 is not over.
    assert [p.code for p in quarterly] == ["2026-Q3", "2026-Q2", "2026-Q1"]
    monthly, quarterly = deck_periods(months, as_of=date(2026, 11, 30))
    assert monthly[0].code == "2026-11"
