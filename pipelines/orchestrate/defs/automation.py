"""When the pipeline runs: weekly on Monday morning, and whenever new files reach the inbox."""

import hashlib
import os

from dagster import (
    AssetSelection,
    DefaultScheduleStatus,
    DefaultSensorStatus,
    RunRequest,
    ScheduleDefinition,
    SensorEvaluationContext,
    SkipReason,
    define_asset_job,
    sensor,
)

from pipelines.orchestrate.defs.resources import ClinicopsResource

full_pipeline_job = define_asset_job(
    "clinicops_pipeline",
    # Pulled sources run on their own sensors and jobs (defs/pull.py), never in this one.
    selection=AssetSelection.all() - AssetSelection.groups("pull"),
    description="Land every inbox file, build every KPI, publish the serving file.",
)


# `clinicops serve` sets this: a user who asks for scheduling gets the schedule and the
# sensor running without a click in the UI (`clinicops ui` alone leaves them off).
AUTOMATION_ENV = "CLINICOPS_AUTOMATION"


def automation_on() -> bool:
    return os.environ.get(AUTOMATION_ENV, "").lower() in ("1", "on", "true")


def weekly_schedule(timezone: str, running: bool = False) -> ScheduleDefinition:
    """Monday 05:00 practice time: the office manager's numbers are ready before opening."""
    return ScheduleDefinition(
        name="weekly_monday_0500",
        job=full_pipeline_job,
        cron_schedule="0 5 * * 1",
        execution_timezone=timezone,
        default_status=DefaultScheduleStatus.RUNNING if running else DefaultScheduleStatus.STOPPED,
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


def _inbox_changed(context: SensorEvaluationContext, clinicops: ClinicopsResource):
    """Starts a run when the inbox changes; landing itself skips bytes it has seen."""
    fingerprint = inbox_fingerprint(clinicops)
    if fingerprint == context.cursor:
        return SkipReason("no new files in the inbox")
    context.update_cursor(fingerprint)
    return RunRequest(run_key=fingerprint)


def inbox_sensor_def(running: bool = False):
    """The inbox sensor, running from the start when `running` (see AUTOMATION_ENV)."""
    status = DefaultSensorStatus.RUNNING if running else DefaultSensorStatus.STOPPED
    return sensor(
        name="inbox_sensor",
        job=full_pipeline_job,
        minimum_interval_seconds=60,
        default_status=status,
    )(_inbox_changed)


inbox_sensor = inbox_sensor_def()
