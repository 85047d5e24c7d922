"""The practice's calendar: the span a delivery covers, holidays and the demand curve.

Demand is what makes the KPIs move the way a real clinic's do: Mondays fill up, flu
season (December to February) is busy, July and August dip, and the practice closes on
the usual US holidays.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np

# Slots stay bookable this far past the delivery so third-next-available has a future.
HORIZON_WEEKS = 12
# Biweekly pay periods run Sunday to Saturday from a fixed anchor, so they do not move
# with the length of the sample.
PAY_PERIOD_ANCHOR = date(2000, 1, 2)

MONTH_DEMAND = np.array([1.07, 1.06, 1.02, 1.0, 0.98, 0.96, 0.89, 0.91, 1.0, 1.02, 1.02, 1.0])
_WEEKDAY_DEMAND = np.array([1.08, 1.02, 1.0, 0.99, 0.93, 0.0, 0.0])
BASE_FILL = 0.9


@dataclass(frozen=True)
class Span:
    """First and last day of history, and the last day with template slots."""

    start: date
    end: date
    horizon: date

    @property
    def as_of(self) -> datetime:
        """The moment the export was taken: the end of the last day of history."""
        return datetime.combine(self.end + timedelta(days=1), datetime.min.time())


def span_for(end_date: date, weeks: int) -> Span:
    if weeks < 1:
        raise ValueError("weeks must be at least 1")
    start = end_date - timedelta(days=7 * weeks - 1)
    return Span(start, end_date, end_date + timedelta(weeks=HORIZON_WEEKS))


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    """The n-th given weekday of a month; n = -1 is the last one."""
    if n > 0:
        first = date(year, month, 1)
        return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))
    last = date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def _observed(day: date) -> date:
    if day.weekday() == 5:
        return day - timedelta(days=1)
    if day.weekday() == 6:
        return day + timedelta(days=1)
    return day


def holidays(first_year: int, last_year: int) -> np.ndarray:
    """Days the practice is closed, as datetime64[D]."""
    days: list[date] = []
    for year in range(first_year, last_year + 1):
        thanksgiving = _nth_weekday(year, 11, 3, 4)
        days += [
            _observed(date(year, 1, 1)),
            _nth_weekday(year, 5, 0, -1),  # Memorial Day
            _observed(date(year, 7, 4)),
            _nth_weekday(year, 9, 0, 1),  # Labor Day
            thanksgiving,
            thanksgiving + timedelta(days=1),
            _observed(date(year, 12, 25)),
        ]
    return np.array(sorted(days), dtype="datetime64[D]")


def weekday(days: np.ndarray) -> np.ndarray:
    """Monday = 0, like `date.weekday()` (1970-01-01 was a Thursday)."""
    return (days.astype("datetime64[D]").astype(np.int64) + 3) % 7


def month_index(days: np.ndarray) -> np.ndarray:
    """0 for January ... 11 for December."""
    return days.astype("datetime64[M]").astype(np.int64) % 12


def demand(days: np.ndarray) -> np.ndarray:
    """Probability that a template slot on each day gets booked."""
    days = days.astype("datetime64[D]")
    factor = MONTH_DEMAND[month_index(days)] * _WEEKDAY_DEMAND[weekday(days)]
    day_of_month = (days - days.astype("datetime64[M]").astype("datetime64[D]")).astype(int) + 1
    year_end = (month_index(days) == 11) & (day_of_month >= 24)
    factor = np.where(year_end, factor * 0.82, factor)
    return np.clip(BASE_FILL * factor, 0.3, 0.97)


def in_flu_season(days: np.ndarray) -> np.ndarray:
    month = month_index(days)
    return (month >= 11) | (month <= 1)


def in_vaccine_season(days: np.ndarray) -> np.ndarray:
    month = month_index(days)
    return (month >= 8) | (month <= 1)


def quarters(start: date, end: date) -> list[tuple[date, date]]:
    """Calendar quarters clipped to [start, end]: the generator's unit of work."""
    chunks = []
    cursor = start
    while cursor <= end:
        q_month = 3 * ((cursor.month - 1) // 3) + 4
        next_q = date(cursor.year + (q_month > 12), (q_month - 1) % 12 + 1, 1)
        chunks.append((cursor, min(end, next_q - timedelta(days=1))))
        cursor = next_q
    return chunks


def pay_periods(start: date, end: date) -> list[tuple[date, date]]:
    """Closed biweekly periods (inclusive end) that touch [start, end] and end by `end`."""
    first = PAY_PERIOD_ANCHOR + timedelta(days=14 * ((start - PAY_PERIOD_ANCHOR).days // 14))
    periods = []
    while first + timedelta(days=13) <= end:
        periods.append((first, first + timedelta(days=13)))
        first += timedelta(days=14)
    return periods


def months(start: date, end: date) -> list[date]:
    """First days of the months from start's month to end's month."""
    out = []
    cursor = date(start.year, start.month, 1)
    while cursor <= end:
        out.append(cursor)
        cursor = date(cursor.year + cursor.month // 12, cursor.month % 12 + 1, 1)
    return out


def month_end(first: date) -> date:
    return date(first.year + first.month // 12, first.month % 12 + 1, 1) - timedelta(days=1)


def business_days(first: date, last: date, closed: np.ndarray) -> int:
    days = np.arange(np.datetime64(first), np.datetime64(last) + 1, dtype="datetime64[D]")
    open_days = (weekday(days) < 5) & ~np.isin(days, closed)
    return int(open_days.sum())
