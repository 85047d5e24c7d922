"""The KPI catalog seed is the one table of labels, units and directions, and the readers'
lookups over it and over the practice's names behave as pages, deck and digest need."""

from __future__ import annotations

import csv
from pathlib import Path

from dashboards.access.small_cells import guards
from dashboards.data.catalog import Catalog, Names

SEEDS = Path(__file__).resolve().parents[2] / "dbt_project" / "seeds"


def _seed(name: str) -> list[dict[str, str]]:
    with (SEEDS / f"{name}.csv").open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_small_cell_parts_of_the_catalog_are_the_ones_the_rule_applies():
    for row in _seed("kpi_catalog"):
        if row["is_pattern"] == "true":
            continue
        kpi = row["kpi"]
        applied = [part if guard == kpi else f"{guard}.{part}" for guard, part in guards(kpi)]
        declared = row["small_cell_parts"].split(";") if row["small_cell_parts"] else []
        assert declared == applied, kpi


def test_every_target_default_is_a_catalog_kpi_and_every_catalog_row_is_complete():
    catalog = {r["kpi"]: r for r in _seed("kpi_catalog")}
    assert {r["kpi"] for r in _seed("kpi_target_defaults")} <= set(catalog)
    for kpi, row in catalog.items():
        assert row["label"] and row["unit"] and row["description"], kpi
        assert row["direction"] in {"higher_is_better", "lower_is_better", "neutral"}, kpi


def test_catalog_lookup_expands_the_budget_pattern_and_tolerates_unknown_names():
    catalog = Catalog.from_rows(
        {**r, "is_pattern": r["is_pattern"] == "true"} for r in _seed("kpi_catalog")
    )
    assert catalog.label("cycle_time_min_p50") == "Cycle time (median)"
    assert catalog.unit("labor_cost") == "money"
    assert catalog.direction("labor_cost") == "lower_is_better"
    assert catalog.line_label("collections") == "Collections"
    assert catalog.label("budget_variance_cleaning") == "Budget variance: Cleaning"
    assert catalog.direction("budget_variance_cleaning") == "lower_is_better"
    assert catalog.entry("some_new_kpi").direction == "neutral"
    assert catalog.knows("budget_variance_cleaning") and not catalog.knows("some_new_kpi")


def test_names_fall_back_to_ids():
    names = Names(locations={"L01": "Lakeview"}, providers={"PRV0002": "Dr. R. Okafor"})
    assert names.of("location", "L01") == "Lakeview"
    assert names.of("provider", "PRV0002") == "Dr. R. Okafor"
    assert names.of("provider", "PRV0009") == "PRV0009"  # not visible or not named
    assert names.of("practice", "all") == "Whole practice"
    assert names.payer("PY001") == "PY001"
