"""The one Dagster `Definitions` of clinicops: it only assembles (pipelines/orchestrate/defs/).

`dagster dev` (or `clinicops ui`) loads it with the practice home, inbox and config
taken from CLINICOPS_HOME, CLINICOPS_INBOX and CLINICOPS_CONFIG when a run starts.
"""

from dagster import Definitions, EnvVar
from dagster_dbt import DbtCliResource

from pipelines.core.config import load_config
from pipelines.model.build import DBT_EXECUTABLE
from pipelines.orchestrate.defs.automation import (
    automation_on,
    full_pipeline_job,
    inbox_sensor_def,
    weekly_schedule,
)
from pipelines.orchestrate.defs.dbt import clinicops_dbt_models, dbt_project
from pipelines.orchestrate.defs.landing import land_inbox
from pipelines.orchestrate.defs.publish import serving_database
from pipelines.orchestrate.defs.pull import pull_definitions
from pipelines.orchestrate.defs.reports import board_deck, weekly_digest
from pipelines.orchestrate.defs.resources import ClinicopsResource

ASSETS = [land_inbox, clinicops_dbt_models, serving_database]


def resources(clinicops: ClinicopsResource) -> dict[str, object]:
    return {
        "clinicops": clinicops,
        "dbt": DbtCliResource(project_dir=dbt_project, dbt_executable=str(DBT_EXECUTABLE)),
    }


_config = load_config()
# One asset, job and sensor per source the practice pulls from (docs/sources.md).
pull_assets, pull_jobs, pull_sensors = pull_definitions(_config)

defs = Definitions(
    # The deck and the digest run with the scheduled job, not in `clinicops run` (ASSETS),
    # which builds and publishes only.
    assets=[*ASSETS, board_deck, weekly_digest, *pull_assets],
    jobs=[full_pipeline_job, *pull_jobs],
    schedules=[weekly_schedule(_config.practice.timezone, automation_on())],
    sensors=[inbox_sensor_def(automation_on()), *pull_sensors],
    resources=resources(
        ClinicopsResource(
            home=EnvVar("CLINICOPS_HOME"),
            inbox=EnvVar("CLINICOPS_INBOX"),
            config_path=EnvVar("CLINICOPS_CONFIG"),
        )
    ),
)
