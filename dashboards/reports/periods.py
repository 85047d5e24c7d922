"""Report periods: a month (`2026-10`) or a quarter (`2026-Q3`), and the periods a board
compares them with (the one before, and the same one a year earlier)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$", re.IGNORECASE)
_YEAR = re.compile(r"^FY(\d{4})$", re.IGNORECASE)
_MONTH_NAMES = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def add_months(first: date, n: int) -> date:
    index = first.year * 12 + first.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class Period:
    """A run of whole calendar months, named by its first month."""

    start: date
    months: int  # 1, 3 or 12 (a fiscal year)

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
    def is_year(self) -> bool:
        return self.months == 12

    @property
    def label(self) -> str:
        if self.is_year:
            return f"FY{self.end.year}"
        if self.is_quarter:
            return f"Q{(self.start.month - 1) // 3 + 1} {self.start.year}"
        return f"{_MONTH_NAMES[self.start.month - 1]} {self.start.year}"

    @property
    def code(self) -> str:
        if self.is_year:
            return f"FY{self.end.year}"
        if self.is_quarter:
            return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
        return f"{self.start:%Y-%m}"

    def prior(self) -> Period:
        return Period(add_months(self.start, -self.months), self.months)

    def year_ago(self) -> Period:
        return Period(add_months(self.start, -12), self.months)


def parse_period(text: str, fiscal_start_month: int = 1) -> Period:
    """`YYYY-MM`, `YYYY-Qn` or `FYYYYY` (the fiscal year that ends in YYYY, starting in
    `fiscal_start_month`; January: the calendar year); anything else is a ValueError."""
    if m := _MONTH.match(text.strip()):
        year, month = int(m[1]), int(m[2])
        if 1 <= month <= 12:
            return Period(date(year, month, 1), 1)
    if m := _QUARTER.match(text.strip()):
        return Period(date(int(m[1]), 3 * int(m[2]) - 2, 1), 3)
    if m := _YEAR.match(text.strip()):
        end_year = int(m[1])
        start_year = end_year if fiscal_start_month == 1 else end_year - 1
        return Period(date(start_year, fiscal_start_month, 1), 12)
    raise ValueError(
        f"period {text!r} is not a month (2026-10), a quarter (2026-Q3) or a fiscal year (FY2026)"
    )


def last_complete_month(as_of: date) -> Period:
    """The newest month that ends on or before the as-of date."""
    month = Period(date(as_of.year, as_of.month, 1), 1)
    return month if month.end == as_of else month.prior()


def month_label(first: date) -> str:
    return f"{_MONTH_NAMES[first.month - 1]} {first.year}"
