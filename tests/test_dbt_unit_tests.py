"""dbt's unit tests: the KPI formulas on hand-made rows, run here rather than in every build.

Production builds leave them out (pipelines/model/build.py dbt_build_args), so this is where a
formula that breaks is caught. They run against a copy of the session's sample home, whose
warehouse holds every relation a unit test's inputs are typed from.
"""

import json
import shutil

from pipelines.core.home import Home
from pipelines.model.build import home_target_dir, run_unit_tests


def test_every_dbt_unit_test_passes(sample_home, tmp_path):
    home = Home(tmp_path / "home")
    home.root.mkdir()
    shutil.copyfile(sample_home.warehouse, home.warehouse)
    shutil.copytree(sample_home.lake, home.lake)

    run_unit_tests(home)

    results = json.loads((home_target_dir(home) / "run_results.json").read_text())["results"]
    unit_tests = [r for r in results if r["unique_id"].startswith("unit_test.")]
    assert len(unit_tests) >= 43, "the project's unit tests were not all selected"
    assert {r["status"] for r in unit_tests} == {"pass"}


def test_a_production_build_runs_no_unit_test(sample_home):
    results = json.loads((home_target_dir(sample_home) / "run_results.json").read_text())
    kinds = {r["unique_id"].split(".")[0] for r in results["results"]}
    assert "unit_test" not in kinds
    assert {"model", "test"} <= kinds
