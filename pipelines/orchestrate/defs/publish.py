"""The serving file as an asset: published only after the whole dbt build is green."""

from dagster import AssetExecutionContext, MaterializeResult, asset

from pipelines.orchestrate.defs.dbt import clinicops_dbt_models
from pipelines.orchestrate.defs.resources import ClinicopsResource
from pipelines.publish.serving import publish


@asset(
    key=["serving"],
    deps=list(clinicops_dbt_models.keys),
    group_name="publish",
    kinds={"duckdb"},
    description="<home>/serving.duckdb: the read-only copy of the marts.",
)
def serving_database(context: AssetExecutionContext, clinicops: ClinicopsResource):
    result = publish(clinicops.practice_home(), clinicops.build_engine())
    context.log.info(f"published {result.path} (as of {result.as_of_date})")
    return MaterializeResult(
        metadata={
            "path": str(result.path),
            "as_of_date": result.as_of_date or "",
            "kpi_values_rows": result.tables.get("kpi_values", 0),
        }
    )
