"""When the pipeline runs: weekly on Monday morning, and whenever new files reach the inbox."""

import hashlib

from dagster import (
    AssetSelection,
    DefaultSensorStatus,
    RunRequest,
    ScheduleDefinition,
    SensorEvaluationContext,
    SkipReason,
    define_asset_job,
    sensor,
)

from pipelines.defs.resources import ClinicopsResource

full_pipeline_job = define_asset_job(
    "clinicops_pipeline",
    # Pulled sources run on their own sensors and jobs (defs/pull.py), never in this one.
    selection=AssetSelection.all() - AssetSelection.groups("pull"),
    description="Land every inbox file, build every KPI, publish the serving file.",
)


def weekly_schedule(timezone: str) -> ScheduleDefinition:
    """Monday 05:00 practice time: the office manager's numbers are ready before opening."""
    return ScheduleDefinition(
        name="weekly_monday_0500",
        job=full_pipeline_job,
        cron_schedule="0 5 * * 1",
        execution_timezone=timezone,
    )


def inbox_fingerprint(clinicops: ClinicopsResource) -> str:
    """Names, sizes and modification times of every inbox file: changes when a file arrives."""
    entries = sorted(
        f"{path}:{path.stat().st_size}:{path.stat().st_mtime_ns}"
        for inbox in clinicops.inbox_dirs()
        if inbox.exists()
        for path in inbox.rglob("*")
        if path.is_file() and not path.name.startswith(".")
    )
    return hashlib.sha256("\n".join(entries).encode()).hexdigest()


@sensor(
    job=full_pipeline_job, minimum_interval_seconds=60, default_status=DefaultSensorStatus.STOPPED
)
def inbox_sensor(context: SensorEvaluationContext, clinicops: ClinicopsResource):
    """Starts a run when the inbox changes; landing itself skips bytes it has seen."""
    fingerprint = inbox_fingerprint(clinicops)
    if fingerprint == context.cursor:
        return SkipReason("no new files in the inbox")
    context.update_cursor(fingerprint)
    return RunRequest(run_key=fingerprint)
