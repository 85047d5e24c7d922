"""The dbt project as Dagster assets: `dbt build`, so dbt's data tests become asset checks."""

import os

from dagster import AssetExecutionContext
from dagster_dbt import DbtCliResource, DbtProject, dbt_assets

from pipelines.core import faults
from pipelines.core.home_lock import home_lock
from pipelines.core.warehouse_lock import release_stale_lock
from pipelines.model.build import (
    DBT_PROJECT_DIR,
    STATIC_TARGET_DIR,
    dbt_build_args,
    dbt_env,
    ensure_static_manifest,
    home_target_dir,
)
from pipelines.model.dbt_child import parent_env
from pipelines.orchestrate.defs.resources import ClinicopsResource

dbt_project = DbtProject(
    project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR, target_path=STATIC_TARGET_DIR
)


@dbt_assets(manifest=ensure_static_manifest(), project=dbt_project)
def clinicops_dbt_models(
    context: AssetExecutionContext, dbt: DbtCliResource, clinicops: ClinicopsResource
):
    home = clinicops.practice_home()
    # One writer per home (pipelines/core/home_lock.py); `clinicops run` holds it already.
    with home_lock(home.root):
        stale = release_stale_lock(home.warehouse)
        if stale:
            context.log.warning(
                f"ended dbt PID {stale}, left holding the warehouse by a killed run"
            )
        # The profile and the lake sources read these; each home builds into its own
        # warehouse and target folder, from the same project. dagster-dbt copies os.environ
        # into dbt's environment, which is how clinicops-dbt learns who its parent is.
        os.environ.update({**dbt_env(home), **parent_env()})
        args = dbt_build_args(
            clinicops.practice_config(), clinicops.as_of_date(), clinicops.build_engine()
        )
        for event in dbt.cli(args, context=context, target_path=home_target_dir(home)).stream():
            faults.point("build.dbt")
            yield event
