"""Pulled sources in real Dagster: an asset, job and sensor per source; a run tagged with
what it fetched; a failing source fails its ERROR check and leaves the others alone."""

from __future__ import annotations

from pathlib import Path

import pytest
from dagster import (
    AssetCheckSeverity,
    DagsterInstance,
    Definitions,
    RunRequest,
    build_sensor_context,
)

from pipelines.core.config import load_config
from pipelines.core.home import Home
from pipelines.orchestrate.defs.pull import (
    CHECK,
    RETRY,
    pull_definitions,
    pull_key,
)
from pipelines.orchestrate.defs.resources import ClinicopsResource
from tests.pull.conftest import write_config
from tests.pull.fhir_server import FhirServer

PATIENTS = [{"resourceType": "Patient", "id": "p1"}]


@pytest.fixture
def server():
    fhir = FhirServer()
    fhir.behaviour.resources = {"Patient": PATIENTS}
    fhir.behaviour.status_429_once = False
    fhir.behaviour.pending_polls = 0
    yield fhir
    fhir.stop()


def sources(server: FhirServer) -> dict:
    return {
        "ehr": {
            "kind": "fhir",
            "base_url": f"{server.url}/fhir",
            "interval_minutes": 5,
        },
        "broken": {
            "kind": "fhir",
            "base_url": f"{server.url}/fhir",
            "auth": {"kind": "bearer", "token": "env:CLINICOPS_TEST_NO_SUCH_TOKEN"},
            "interval_minutes": 60,
        },
    }


def test_each_source_has_its_own_asset_job_and_sensor(server, tmp_path: Path):
    config = load_config(write_config(tmp_path / "c.yaml", sources(server)))
    assets, jobs, sensors = pull_definitions(config)
    assert [a.key for a in assets] == [pull_key("ehr"), pull_key("broken")]
    assert [j.name for j in jobs] == ["pull_ehr", "pull_broken"]
    assert {s.name: s.minimum_interval_seconds for s in sensors} == {
        "pull_ehr_sensor": 300,
        "pull_broken_sensor": 3600,
    }
    assert all(a.op.retry_policy == RETRY for a in assets)
    clinicops = ClinicopsResource(home=str(tmp_path), inbox=str(tmp_path / "inbox"))
    defs = Definitions(
        assets=assets, jobs=jobs, sensors=sensors, resources={"clinicops": clinicops}
    )
    assert defs.resolve_job_def("pull_ehr").name == "pull_ehr"
    with DagsterInstance.ephemeral() as instance:
        request = sensors[0](build_sensor_context(instance=instance))
    assert isinstance(request, RunRequest) and request.tags["clinicops/pull_source"] == "ehr"


def test_runs_are_tagged_and_a_failing_source_fails_loudly_alone(server, tmp_path: Path):
    config_file = write_config(tmp_path / "c.yaml", sources(server))
    home = Home(tmp_path / "home")
    clinicops = ClinicopsResource(
        home=str(home.root), inbox=str(tmp_path / "inbox"), config_path=str(config_file)
    )
    assets, jobs, _ = pull_definitions(load_config(config_file))
    defs = Definitions(assets=assets, jobs=jobs, resources={"clinicops": clinicops})
    with DagsterInstance.ephemeral() as instance:
        good = defs.resolve_job_def("pull_ehr").execute_in_process(instance=instance)
        bad = defs.resolve_job_def("pull_broken").execute_in_process(
            instance=instance, raise_on_error=False
        )
        assert good.success
        tags = instance.get_run_by_id(good.run_id).tags
        assert tags["clinicops/files_fetched"] == "1"
        assert tags["clinicops/fetched"].startswith("Patient_")
        (materialization,) = good.asset_materializations_for_node("pull__ehr")
        assert materialization.metadata["files_fetched"].value == 1
        assert materialization.metadata["last_successful_pull"].value != "never"
        results = {
            e.asset_key.path[-1]: e
            for run in (good, bad)
            for e in run.get_asset_check_evaluations()
        }
    assert results["ehr"].passed and results["ehr"].check_name == CHECK
    assert not results["broken"].passed
    assert results["broken"].severity == AssetCheckSeverity.ERROR
    assert "CLINICOPS_TEST_NO_SUCH_TOKEN is not set" in results["broken"].metadata["error"].value
    assert not bad.success  # the blocking ERROR check fails the run of that source only
    assert (home.root / "inbox" / "fhir").is_dir()
    assert clinicops.inbox_dirs() == [tmp_path / "inbox", home.root / "inbox"]
