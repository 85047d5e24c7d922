"""The KPI catalog and the practice's names, as published: what pages, the deck and the
digest call a KPI, its unit and direction, and what they call a location, provider or
payer instead of its id.

Both are lookups over published tables (`marts.kpi_catalog`, from the dbt seed of the
same name; `dim_locations`, `dim_providers`, `dim_payers`), built by the two data layers
(`dashboards/data/query.py` for pages, `dashboards/data/serving.py` for reports) from what
the reader may see. Nothing here decides a number or a status.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

PATTERN = "budget_variance_*"
BUDGET_PREFIX = "budget_variance_"
_PATTERN_LABEL_PREFIX = "Budget variance: "


@dataclass(frozen=True)
class Entry:
    kpi: str
    label: str
    unit: str
    direction: str  # higher_is_better | lower_is_better | neutral
    description: str = ""


@dataclass(frozen=True)
class Catalog:
    """Every KPI name of `marts.kpi_catalog`; a budget line without a row of its own takes
    the pattern row `budget_variance_*` (its `{line}` is the line's name)."""

    entries: Mapping[str, Entry]

    @classmethod
    def from_rows(cls, rows: Iterable[Mapping]) -> Catalog:
        return cls(
            {
                r["kpi"]: Entry(
                    r["kpi"], r["label"], r["unit"], r["direction"], r.get("description") or ""
                )
                for r in rows
            }
        )

    def knows(self, kpi: str) -> bool:
        """A published KPI name: a row of its own, or a budget line under the pattern."""
        return kpi in self.entries or (kpi.startswith(BUDGET_PREFIX) and PATTERN in self.entries)

    def entry(self, kpi: str) -> Entry:
        if kpi in self.entries:
            return self.entries[kpi]
        if kpi.startswith(BUDGET_PREFIX) and PATTERN in self.entries:
            pattern = self.entries[PATTERN]
            line = kpi.removeprefix(BUDGET_PREFIX).replace("_", " ").capitalize()
            return Entry(
                kpi, pattern.label.replace("{line}", line), pattern.unit, pattern.direction
            )
        # A name the catalog does not know (a newer build than this reader): readable,
        # never judged.
        return Entry(kpi, kpi.replace("_", " ").capitalize(), "", "neutral")

    def label(self, kpi: str) -> str:
        return self.entry(kpi).label

    def unit(self, kpi: str) -> str:
        return self.entry(kpi).unit

    def direction(self, kpi: str) -> str:
        return self.entry(kpi).direction

    def line_label(self, line: str) -> str:
        """A budget line's name ("Collections", "Rent") without the variance prefix."""
        return self.label(BUDGET_PREFIX + line).removeprefix(_PATTERN_LABEL_PREFIX)


@dataclass(frozen=True)
class Names:
    """Display names by id. Providers are only those the reader may see (a board member
    sees none, so a provider id never becomes a name for them); an unknown id reads as
    itself, so a missing reference file never hides a row."""

    locations: Mapping[str, str] = field(default_factory=dict)
    providers: Mapping[str, str] = field(default_factory=dict)
    payers: Mapping[str, str] = field(default_factory=dict)

    def location(self, location_id: str) -> str:
        return self.locations.get(location_id) or location_id

    def provider(self, provider_id: str) -> str:
        return self.providers.get(provider_id) or provider_id

    def payer(self, payer_id: str) -> str:
        return self.payers.get(payer_id) or payer_id

    def of(self, scope: str, scope_id: str) -> str:
        """The name of a kpi_values scope: "Whole practice", a location or a provider."""
        if scope == "practice":
            return "Whole practice"
        return self.location(scope_id) if scope == "location" else self.provider(scope_id)


def currency() -> str:
    """The practice's currency symbol; money KPIs are published in it without one."""
    return os.environ.get("CLINICOPS_CURRENCY", "$")
