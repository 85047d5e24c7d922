"""How a target band and a KPI row's status are written on a page.

The band in force and the status itself come from `marts.kpi_status` (one status per
published row, the same the deck, digest and alerts show); `Target` is a KPI's default
band from `marts.kpi_targets`, which pages cite as a KPI's reference. Nothing here judges
a value against a band.
"""

from __future__ import annotations

from dataclasses import dataclass

from dashboards.app.formatting import fmt, is_null

# A status as a badge shows it: words and colour (`partial`: not complete, never judged).
STATUS_BADGE: dict[str, tuple[str, str]] = {
    "in_band": ("in band", "green"),
    "out_of_band": ("out of band", "red"),
    "no_target": ("no target", "gray"),
    "partial": ("partial", "orange"),
    "suppressed": ("suppressed", "gray"),
}


def band_text(low, high, unit: str | None) -> str:
    low = None if is_null(low) else float(low)
    high = None if is_null(high) else float(high)
    if low is not None and high is not None:
        return f"{fmt(low, unit)} – {fmt(high, unit)}"
    if high is not None:
        return f"≤ {fmt(high, unit)}"
    if low is not None:
        return f"≥ {fmt(low, unit)}"
    return "no target"


@dataclass(frozen=True)
class Target:
    kpi: str
    direction: str  # higher_is_better | lower_is_better | neutral
    low: float | None
    high: float | None
    unit: str | None
    source: str | None

    @classmethod
    def from_row(cls, row: dict) -> Target:
        def clean(v):
            return None if is_null(v) else float(v)

        return cls(
            kpi=row["kpi"],
            direction=row["direction"],
            low=clean(row.get("target_low")),
            high=clean(row.get("target_high")),
            unit=row.get("unit"),
            source=row.get("source"),
        )

    @property
    def has_band(self) -> bool:
        return self.low is not None or self.high is not None

    def band_text(self) -> str:
        return band_text(self.low, self.high, self.unit)


def delta_color(direction: str) -> str:
    """Streamlit's metric colour: a rise is good for higher-is-better KPIs."""
    return {"higher_is_better": "normal", "lower_is_better": "inverse"}.get(direction, "off")


def worst_first(direction: str) -> bool:
    """Sort order (descending?) that puts the worst location or provider on top."""
    return direction != "higher_is_better"
