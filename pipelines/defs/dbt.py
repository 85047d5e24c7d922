"""The dbt project as Dagster assets: `dbt build`, so dbt's data tests become asset checks."""

import os

from dagster import AssetExecutionContext
from dagster_dbt import DbtCliResource, DbtProject, dbt_assets

from pipelines import faults
from pipelines.build import (
    DBT_PROJECT_DIR,
    STATIC_TARGET_DIR,
    dbt_build_args,
    dbt_env,
    ensure_static_manifest,
    home_target_dir,
)
from pipelines.defs.resources import ClinicopsResource

dbt_project = DbtProject(
    project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR, target_path=STATIC_TARGET_DIR
)


@dbt_assets(manifest=ensure_static_manifest(), project=dbt_project)
def clinicops_dbt_models(
    context: AssetExecutionContext, dbt: DbtCliResource, clinicops: ClinicopsResource
):
    home = clinicops.practice_home()
    # The profile and the lake sources read these; each home builds into its own
    # warehouse and target folder, from the same project.
    os.environ.update(dbt_env(home))
    args = dbt_build_args(
        clinicops.practice_config(), clinicops.as_of_date(), clinicops.build_engine()
    )
    for event in dbt.cli(args, context=context, target_path=home_target_dir(home)).stream():
        faults.point("build.dbt")
        yield event
