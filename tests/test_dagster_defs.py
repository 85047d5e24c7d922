"""The Dagster definitions load, and their wiring matches the contracts and dbt sources."""

import os

from dagster import AssetKey, DagsterInstance, build_sensor_context

from pipelines.core.contracts import CONTRACTS
from pipelines.orchestrate.defs.automation import inbox_sensor
from pipelines.orchestrate.defs.resources import ClinicopsResource


def test_definitions_load_with_every_landing_asset_upstream_of_dbt():
    from pipelines.orchestrate.definitions import defs

    graph = defs.resolve_asset_graph()
    keys = graph.get_all_asset_keys()
    for contract in CONTRACTS:
        assert AssetKey(["lake", contract.entity]) in keys
    # The staging model of each entity reads the landing asset of that entity.
    staging = AssetKey(["staging", "stg_scheduling__appointments"])
    assert staging in keys
    assert AssetKey(["lake", "appointments"]) in graph.get(staging).parent_keys
    assert AssetKey(["marts", "kpi_values"]) in graph.get(AssetKey(["serving"])).parent_keys
    schedule = defs.resolve_schedule_def("weekly_monday_0500")
    assert schedule.cron_schedule == "0 5 * * 1"
    assert schedule.execution_timezone == "America/Chicago"


def test_inbox_sensor_fires_on_a_new_file_and_not_again(tmp_path):
    inbox = tmp_path / "inbox"
    (inbox / "billing").mkdir(parents=True)
    clinicops = ClinicopsResource(home=str(tmp_path / "home"), inbox=str(inbox))
    with DagsterInstance.ephemeral() as instance:
        context = build_sensor_context(instance=instance, resources={"clinicops": clinicops})
        first = inbox_sensor(context)
        (inbox / "billing" / "charges.csv").write_text("charge_id\n")
        context = build_sensor_context(
            instance=instance, cursor=context.cursor, resources={"clinicops": clinicops}
        )
        second = inbox_sensor(context)
        context = build_sensor_context(
            instance=instance, cursor=context.cursor, resources={"clinicops": clinicops}
        )
        third = inbox_sensor(context)
    assert first.__class__.__name__ == "RunRequest"  # an inbox seen for the first time
    assert second.__class__.__name__ == "RunRequest"
    assert third.__class__.__name__ == "SkipReason"


def test_resource_splits_inboxes_in_order(tmp_path):
    clinicops = ClinicopsResource(
        home=str(tmp_path), inbox=os.pathsep.join(["/a/inbox", "/b/corrections"]), as_of=""
    )
    assert [str(p) for p in clinicops.inbox_dirs()] == ["/a/inbox", "/b/corrections"]
    assert clinicops.as_of_date() is None
