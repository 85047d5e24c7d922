"""dbt is documented like Tuva: every input column from the contracts, every model and
every column of every model that a build creates."""

from __future__ import annotations

import json

import duckdb
import pytest

from pipelines.core.home import Home
from pipelines.model import dbt_docs


def test_committed_staging_yaml_matches_the_contracts():
    assert dbt_docs.SOURCES_FILE.read_text(encoding="utf-8") == dbt_docs.render_sources(), (
        "models/staging/_lake__sources.yml is stale: run `python -m pipelines.model.dbt_docs`"
    )
    assert dbt_docs.MODELS_FILE.read_text(encoding="utf-8") == dbt_docs.render_models(), (
        "models/staging/_staging__models.yml is stale: run `python -m pipelines.model.dbt_docs`"
    )


def test_personal_data_columns_are_marked():
    rendered = dbt_docs.render_models()
    assert "patient_key" in rendered
    for block in rendered.split("- name: ")[1:]:
        if block.startswith("patient_key"):
            assert "personal_data: true" in block


@pytest.fixture(scope="module")
def manifest(sample_home: Home) -> dict:
    return json.loads((sample_home.root / "dbt" / "target" / "manifest.json").read_text())


def _built_columns(home: Home) -> dict[tuple[str, str], list[str]]:
    with duckdb.connect(str(home.warehouse), read_only=True) as con:
        rows = con.execute(
            "select table_schema, table_name, column_name from information_schema.columns "
            "order by table_schema, table_name, ordinal_position"
        ).fetchall()
    out: dict[tuple[str, str], list[str]] = {}
    for schema, table, column in rows:
        out.setdefault((schema, table), []).append(column)
    return out


def test_every_model_and_every_built_column_is_described(sample_home, manifest):
    built = _built_columns(sample_home)
    undocumented: list[str] = []
    models = [n for n in manifest["nodes"].values() if n["resource_type"] == "model"]
    assert models
    for node in models:
        name = node["name"]
        if not node["description"].strip():
            undocumented.append(f"model {name}")
        described = {c for c, doc in node["columns"].items() if doc["description"].strip()}
        for column in built.get((node["schema"], node["alias"] or name), []):
            if column not in described:
                undocumented.append(f"{name}.{column}")
    assert not undocumented, f"{len(undocumented)} undocumented: {undocumented}"


def test_every_dashboard_page_and_report_is_an_exposure(manifest):
    exposures = {e["name"] for e in manifest["exposures"].values()}
    assert {
        "weekly_scorecard",
        "access_and_patient_flow",
        "provider_productivity",
        "revenue_cycle",
        "cost_and_staffing",
        "budget_planning",
        "data_quality",
        "board_deck",
        "weekly_digest",
    } <= exposures
