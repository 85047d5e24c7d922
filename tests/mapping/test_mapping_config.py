"""Every kind of bad mapping gives one clear error naming its config key and the file."""

from __future__ import annotations

import pytest

from pipelines.core.config import ConfigError, load_config

ROUTE = "sources: {scheduling: {routes: [{files: x.csv, entity: appointments, %s}]}}"
KEY = "sources.scheduling.routes.0"


@pytest.mark.parametrize(
    ("route", "message"),
    [
        ("entity: appointment", "unknown entity 'appointment'"),
        ("columns: {no_show: {constant: x}}", "columns.no_show: appointments has no column"),
        ("columns: {status: {values: {y: no_show}}}", "give exactly one of column, constant"),
        (
            "columns: {status: {column: S, constant: completed}}",
            "(found column, constant)",
        ),
        ("columns: {scheduled_minutes: {expr: 'date_diff(('}}", "is not a valid SQL expression"),
        (
            "columns: {scheduled_minutes: {expr: \"read_csv('/etc/passwd')\"}}",
            "function read_csv() is not allowed",
        ),
        ("columns: {scheduled_minutes: {expr: 'getenv(x)'}}", "function getenv() is not allowed"),
        ("where: '(select 1) = 1'", "where: subquery"),
        ("where: 't.status = 1'", "where: t.status: refer to a column by its name alone"),
        ("columns: {status: {column: NS, values: {yes: noshow}}}", "'noshow' is not one of"),
        ("columns: {status: {constant: done}}", "'done' is not one of"),
        ("columns: {booked_at: {column: B, format: {patterns: ['%m/%q/%Y']}}}", "%q is not"),
        ("columns: {booked_at: {column: B, format: {patterns: ['MM/DD/YYYY']}}}", "no % directive"),
        (
            "columns: {booked_at: {column: B, format: {currency: true}}}",
            "number formats apply to number and money columns only",
        ),
        (
            "columns: {scheduled_minutes: {column: M, format: {patterns: ['%M']}}}",
            "date patterns apply to date and timestamp columns only",
        ),
        (
            "columns: {status: {sign_of: Amount, values: {minus: no_show}}}",
            "sign_of needs values keyed by negative, zero and/or positive (not minus)",
        ),
        ("columns: {status: {column: S, valeus: {a: b}}}", "valeus: unknown key"),
        ("filez: y.csv", "filez: unknown key"),
        ("files: [' ']", "files: give at least one file name pattern"),
        (
            "columns: {scheduled_minutes: {column: M, format: {decimal: ',', thousands: ','}}}",
            "thousands and decimal separators must differ",
        ),
    ],
)
def test_bad_route_names_key_and_file(tmp_path, route, message):
    path = tmp_path / "clinicops.yaml"
    path.write_text(ROUTE % route)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    text = str(err.value)
    assert text.startswith(f"{path}: invalid configuration: ")
    assert KEY in text, text
    assert message in text, text
    assert "pydantic" not in text  # one sentence, not a validation dump


def test_two_routes_with_one_name(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(
        "sources: {billing: {routes: [{files: a.csv, entity: charges}, "
        "{files: b.csv, entity: charges}]}}"
    )
    with pytest.raises(
        ConfigError, match="sources.billing: routes: two routes are named 'charges'"
    ):
        load_config(path)


def test_unknown_preset_lists_the_known_ones(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("presets: [kagle_no_shows]")
    with pytest.raises(ConfigError, match="no preset 'kagle_no_shows' .*kaggle_no_shows"):
        load_config(path)


def test_presets_merge_their_routes_after_the_practice_own(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(
        "presets: [kaggle_no_shows]\n"
        "sources: {scheduling: {routes: [{files: own*.csv, entity: appointments, name: own}]}}"
    )
    routes = load_config(path).source("scheduling").routes
    assert [r.label for r in routes] == ["own", "kaggle_no_shows"]


def test_yaml_scalars_in_constants_and_value_maps_are_text(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(
        ROUTE % "columns: {scheduled_minutes: {constant: 15}, "
        "status: {column: NS, values: {yes: no_show, no: completed, 1: no_show}}}"
    )
    route = load_config(path).source("scheduling").routes[0]
    assert route.columns["scheduled_minutes"].constant == "15"
    # YAML 1.1 would read yes/no as booleans (and `1` would then collide with `yes`).
    assert route.columns["status"].values == {"yes": "no_show", "no": "completed",
                                              "1": "no_show"}  # fmt: skip


def test_every_preset_is_a_valid_config():
    from pipelines.core.config import PRESETS_DIR

    presets = sorted(PRESETS_DIR.glob("*.yaml"))
    assert len(presets) >= 3
    for preset in presets:
        assert load_config(preset).sources, preset.name
