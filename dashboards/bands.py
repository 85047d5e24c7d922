"""Where a published value sits against its published target band.

Comparing a value to `marts.kpi_targets` is presentation, not a KPI: the band and its
direction come from the targets mart; this only says inside, outside and how far.
"""

from __future__ import annotations

from dataclasses import dataclass

from dashboards.formatting import fmt, is_null


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
        if self.low is not None and self.high is not None:
            return f"{fmt(self.low, self.unit)} – {fmt(self.high, self.unit)}"
        if self.high is not None:
            return f"≤ {fmt(self.high, self.unit)}"
        if self.low is not None:
            return f"≥ {fmt(self.low, self.unit)}"
        return "no target"


def shortfall(value, target: Target) -> float | None:
    """How far outside the band a value is, relative to the band edge (0 inside; None
    without a value or a band). Used to list what is out of band, worst first."""
    if is_null(value) or not target.has_band:
        return None
    value = float(value)
    # Beyond the good edge is not a problem: 26 days in A/R under a 30–40 band is better.
    check_high = target.high is not None and target.direction != "higher_is_better"
    check_low = target.low is not None and target.direction != "lower_is_better"
    if check_high and value > target.high:
        return (value - target.high) / max(abs(target.high), 1e-9)
    if check_low and value < target.low:
        return (target.low - value) / max(abs(target.low), 1e-9)
    return 0.0


def status(value, target: Target) -> str:
    """`in band`, `out of band` or `no target` (also for a null value)."""
    gap = shortfall(value, target)
    if gap is None:
        return "no target" if not target.has_band else "no value"
    return "in band" if gap == 0 else "out of band"


def delta_color(target: Target) -> str:
    """Streamlit's metric colour: a rise is good for higher-is-better KPIs."""
    return {"higher_is_better": "normal", "lower_is_better": "inverse"}.get(target.direction, "off")


def worst_first(direction: str) -> bool:
    """Sort order (descending?) that puts the worst location or provider on top."""
    return direction != "higher_is_better"
