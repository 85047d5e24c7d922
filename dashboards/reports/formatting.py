"""How a KPI value reads on a slide or in an email, in its unit from the KPI catalog
(`marts.kpi_catalog`); labels come from the catalog too."""

from __future__ import annotations

from dashboards.data.catalog import currency
from dashboards.reports.figures import Cell

DASH = "–"  # a null value: zero denominator or no activity (KPI_SPEC.md)
SUPPRESSED = "n<11"

_SHARE_UNITS = {"share", "share per year"}


def value_text(value: float | None, unit: str) -> str:
    if value is None:
        return DASH
    if unit in _SHARE_UNITS:
        return f"{value:.1%}"
    if unit.startswith("money"):
        return money(value) if unit == "money" else f"{currency()}{value:,.2f}"
    if unit in {"days", "minutes"}:
        return f"{value:,.1f} {'days' if unit == 'days' else 'min'}"
    if unit in {"visits", "wRVU"}:
        return f"{value:,.0f}"
    if unit.endswith("per FTE"):
        return f"{value:,.0f}"
    return f"{value:,.2f}"


def money(value: float) -> str:
    sign = "−" if value < 0 else ""
    size = abs(value)
    if size >= 1_000_000:
        return f"{sign}{currency()}{size / 1_000_000:,.2f}M"
    if size >= 10_000:
        return f"{sign}{currency()}{size / 1_000:,.0f}k"
    return f"{sign}{currency()}{size:,.0f}"


def cell_text(cell: Cell, unit: str) -> str:
    return SUPPRESSED if cell.suppressed else value_text(cell.value, unit)


def change(
    current: Cell, before: Cell, unit: str, partial: bool = False
) -> tuple[str, float | None]:
    """The change as text, and its signed size (None when it cannot be stated).

    Rates move in percentage points; days and minutes in their own unit (a charge lag from
    1 to 2 days is "+1.0 days", not "+100%"); volumes and money in percent of the earlier
    value, but only from a positive base: against zero or a loss ("Operating margin
    +252.7%") a percent says nothing, so the difference is shown in money. A partial
    period is not compared at all: its counts are not final.
    """
    if current.suppressed or before.suppressed:
        return SUPPRESSED, None
    if partial or current.value is None or before.value is None:
        return DASH, None
    delta = current.value - before.value
    if unit in _SHARE_UNITS:
        return _minus(f"{delta * 100:+.1f} pp"), delta
    if unit in {"days", "minutes"}:
        word = "days" if unit == "days" else "min"
        if round(delta, 1) == 0:  # not "−0.0 days"
            return f"0.0 {word}", 0.0
        return _minus(f"{delta:+,.1f} {word}"), delta
    if before.value <= 0 or current.value < 0:
        if unit.startswith("money"):
            return ("+" if delta >= 0 else "−") + money(abs(delta)), delta
        return DASH, None
    relative = delta / before.value
    return _minus(f"{relative:+.1%}"), delta


def _minus(text: str) -> str:
    """A typographic minus: a hyphen reads as a dash in a table of figures."""
    return text.replace("-", "−", 1) if text.startswith("-") else text


def band_text(low: float | None, high: float | None, unit: str) -> str:
    if low is None and high is None:
        return "no published band"
    if low is not None and high is not None:
        low_text, high_text = value_text(low, unit), value_text(high, unit)
        # "30.0 – 40.0 days": the unit once, at the end
        prefix, _, suffix = low_text.partition(" ")
        if suffix and high_text.endswith(" " + suffix):
            low_text = prefix
        return f"{low_text} – {high_text}"
    if high is not None:
        return f"≤ {value_text(high, unit)}"
    return f"≥ {value_text(low, unit)}"
