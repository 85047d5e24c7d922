"""The one Dagster `Definitions` of clinicops: it only assembles (pipelines/defs/).

`dagster dev` (or `clinicops ui`) loads it with the practice home, inbox and config
taken from CLINICOPS_HOME, CLINICOPS_INBOX and CLINICOPS_CONFIG when a run starts.
"""

from dagster import Definitions, EnvVar
from dagster_dbt import DbtCliResource

from pipelines.build import DBT_EXECUTABLE
from pipelines.config import load_config
from pipelines.defs.automation import (
    automation_on,
    full_pipeline_job,
    inbox_sensor_def,
    weekly_schedule,
)
from pipelines.defs.dbt import clinicops_dbt_models, dbt_project
from pipelines.defs.landing import land_inbox
from pipelines.defs.publish import serving_database
from pipelines.defs.reports import board_deck, weekly_digest
from pipelines.defs.resources import ClinicopsResource

ASSETS = [land_inbox, clinicops_dbt_models, serving_database]


def resources(clinicops: ClinicopsResource) -> dict[str, object]:
    return {
        "clinicops": clinicops,
        "dbt": DbtCliResource(project_dir=dbt_project, dbt_executable=str(DBT_EXECUTABLE)),
    }


defs = Definitions(
    # The deck and the digest run with the scheduled job, not in `clinicops run` (ASSETS),
    # which builds and publishes only.
    assets=[*ASSETS, board_deck, weekly_digest],
    jobs=[full_pipeline_job],
    schedules=[weekly_schedule(load_config().practice.timezone, automation_on())],
    sensors=[inbox_sensor_def(automation_on())],
    resources=resources(
        ClinicopsResource(
            home=EnvVar("CLINICOPS_HOME"),
            inbox=EnvVar("CLINICOPS_INBOX"),
            config_path=EnvVar("CLINICOPS_CONFIG"),
        )
    ),
)
