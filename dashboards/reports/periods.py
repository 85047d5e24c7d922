"""Report periods: a month (`2026-10`) or a quarter (`2026-Q3`), and the periods a board
compares them with (the one before, and the same one a year earlier)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$", re.IGNORECASE)
_MONTH_NAMES = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def add_months(first: date, n: int) -> date:
    index = first.year * 12 + first.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class Period:
    """A run of whole calendar months, named by its first month."""

    start: date
    months: int  # 1 or 3

    @property
    def month_starts(self) -> list[date]:
        return [add_months(self.start, i) for i in range(self.months)]

    @property
    def last_month(self) -> date:
        return add_months(self.start, self.months - 1)

    @property
    def end(self) -> date:
        """The last day of the period."""
        return date.fromordinal(add_months(self.start, self.months).toordinal() - 1)

    @property
    def is_quarter(self) -> bool:
        return self.months == 3

    @property
    def label(self) -> str:
        if self.is_quarter:
            return f"Q{(self.start.month - 1) // 3 + 1} {self.start.year}"
        return f"{_MONTH_NAMES[self.start.month - 1]} {self.start.year}"

    @property
    def code(self) -> str:
        if self.is_quarter:
            return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
        return f"{self.start:%Y-%m}"

    def prior(self) -> Period:
        return Period(add_months(self.start, -self.months), self.months)

    def year_ago(self) -> Period:
        return Period(add_months(self.start, -12), self.months)


def parse_period(text: str) -> Period:
    """`YYYY-MM` or `YYYY-Qn`; anything else is a ValueError naming both forms."""
    if m := _MONTH.match(text.strip()):
        year, month = int(m[1]), int(m[2])
        if 1 <= month <= 12:
            return Period(date(year, month, 1), 1)
    if m := _QUARTER.match(text.strip()):
        return Period(date(int(m[1]), 3 * int(m[2]) - 2, 1), 3)
    raise ValueError(f"period {text!r} is neither a month (2026-10) nor a quarter (2026-Q3)")


def last_complete_month(as_of: date) -> Period:
    """The newest month that ends on or before the as-of date."""
    month = Period(date(as_of.year, as_of.month, 1), 1)
    return month if month.end == as_of else month.prior()


def month_label(first: date) -> str:
    return f"{_MONTH_NAMES[first.month - 1]} {first.year}"
