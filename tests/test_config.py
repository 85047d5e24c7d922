"""The config file is validated when read, and its errors name the file."""

from pathlib import Path

import pytest

from pipelines.core.config import Config, ConfigError, load_config
from pipelines.model.build import dbt_build_args, dbt_vars

EXAMPLE = Path(__file__).resolve().parent.parent / "clinicops.example.yaml"


def test_example_config_is_valid():
    config = load_config(EXAMPLE)
    assert config.source("scheduling").mapping["appointments"]["Appt ID"] == "appointment_id"
    assert config.is_snapshot("scheduling", "provider_slots")
    assert not config.is_snapshot("billing", "charges")
    assert config.source("hr").format.delimiter == ";"


def test_no_file_means_defaults(monkeypatch):
    monkeypatch.delenv("CLINICOPS_CONFIG", raising=False)
    assert load_config(None) == Config()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("sources: {pharmacy: {}}", "unknown sources"),
        ("sources: {billing: {mapping: {invoices: {}}}}", "unknown entity 'invoices'"),
        ("sources: {billing: {mapping: {charges: {Amt: amount_usd}}}}", "not a column"),
        ("sources: {hr: {format: {delimiter: ';;'}}}", "single character"),
        ("practice: {nmae: typo}", "nmae"),
        ("practice: {fiscal_year_start_month: 13}", "fiscal_year_start_month"),
        ("targets: [1, 2", "invalid configuration"),
    ],
)
def test_invalid_config_names_file_and_problem(tmp_path, text, message):
    path = tmp_path / "clinicops.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert str(path) in str(err.value)
    assert message in str(err.value)


def test_missing_config_file_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.yaml")


def test_dbt_vars_carry_as_of_and_target_overrides():
    from datetime import date

    config = load_config(EXAMPLE)
    assert dbt_vars(config, date(2026, 11, 20)) == {
        "as_of": "2026-11-20",
        "target_overrides": {"no_show_rate": {"high": 0.06}, "days_in_ar": {"high": 40.0}},
        "fiscal_year_start_month": 1,
    }
    args = dbt_build_args(Config(), None)
    assert args[0] == "build"
    assert '"as_of": ""' in args[2]
    july = Config.model_validate({"practice": {"fiscal_year_start_month": 7}})
    assert dbt_vars(july, None)["fiscal_year_start_month"] == 7
