"""Pulled sources in Dagster: per source an asset (`pull/<name>`), a job and a sensor.

Each source is its own job, run by its own sensor every `interval_minutes`, so a source
that fails never holds up another. A run pulls whatever is new (the pull ledger decides)
and is tagged with what it fetched; the asset's metadata shows the last successful pull
and the files fetched. A network error that outlasts the pull's own retries fails the
step, which the RetryPolicy runs again with exponential backoff; any other failure (auth
refused, folder missing, query error) records the attempt and fails the asset check
`pull_succeeded` with ERROR severity, every time, until it is fixed.

Landing is not part of these jobs: the fetched files arrive in the pull inbox, which the
landing assets read with the other inboxes (ClinicopsResource.inbox_dirs), so the inbox
sensor or the weekly schedule lands them.
"""

from typing import Any

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    AssetsDefinition,
    Backoff,
    DagsterRunStatus,
    DefaultSensorStatus,
    Failure,
    MaterializeResult,
    RetryPolicy,
    RunRequest,
    RunsFilter,
    SensorDefinition,
    SensorEvaluationContext,
    SkipReason,
    asset,
    define_asset_job,
    sensor,
)

from pipelines.core.config import Config
from pipelines.orchestrate.defs.resources import ClinicopsResource
from pipelines.pull import SourceResult, pull_source
from pipelines.pull.ledger import PullLedger

PULL_GROUP = "pull"
CHECK = "pull_succeeded"
SOURCE_TAG = "clinicops/pull_source"
# Network errors only reach Dagster after the pull's own quick retries: wait longer.
RETRY = RetryPolicy(max_retries=3, delay=60, backoff=Backoff.EXPONENTIAL)
_TAG_LENGTH = 200
_UNFINISHED = [
    DagsterRunStatus.QUEUED,
    DagsterRunStatus.NOT_STARTED,
    DagsterRunStatus.STARTING,
    DagsterRunStatus.STARTED,
]


def pull_key(name: str) -> AssetKey:
    return AssetKey([PULL_GROUP, name])


def pull_job_name(name: str) -> str:
    return f"pull_{name}"


def run_tags(result: SourceResult) -> dict[str, str]:
    """What a run fetched, as tags (Dagster keeps tag values short: names are cut)."""
    names = ", ".join(p.name for p in result.files) or "nothing"
    return {
        SOURCE_TAG: result.name,
        "clinicops/pull_status": "ok" if result.ok else "failed",
        "clinicops/files_fetched": str(len(result.files)),
        "clinicops/fetched": names if len(names) <= _TAG_LENGTH else names[:_TAG_LENGTH] + "…",
    }


def _asset(name: str, kind: str) -> AssetsDefinition:
    key = pull_key(name)

    @asset(
        key=key,
        group_name=PULL_GROUP,
        kinds={kind},
        retry_policy=RETRY,
        check_specs=[
            AssetCheckSpec(
                CHECK,
                asset=key,
                blocking=True,
                description="The last pull of this source worked; its error otherwise.",
            )
        ],
        description=f"Files fetched from the {kind} source `{name}` into the pull inbox "
        "(docs/sources.md).",
    )
    def _pull(context: AssetExecutionContext, clinicops: ClinicopsResource):
        home = clinicops.practice_home()
        result = pull_source(home, clinicops.practice_config(), name, say=context.log.info)
        context.instance.add_run_tags(context.run.run_id, run_tags(result))
        if result.transient and context.retry_number < RETRY.max_retries:
            raise Failure(description=result.error)
        if result.error:
            context.log.error(result.error)
        ledger = PullLedger(home)
        try:
            last_ok = ledger.last_attempt(name, ok=True)
        finally:
            ledger.close()
        yield MaterializeResult(
            asset_key=key,
            metadata={
                "status": "ok" if result.ok else "failed",
                "last_successful_pull": last_ok.finished_at if last_ok else "never",
                "files_fetched": len(result.files),
                "files": "\n".join(str(p) for p in result.files) or "none",
                "notes": "\n".join(result.notes) or "none",
                "error": result.error or "none",
            },
        )
        yield AssetCheckResult(
            asset_key=key,
            check_name=CHECK,
            passed=result.ok,
            severity=AssetCheckSeverity.ERROR,
            metadata={"error": result.error or "none"},
        )

    return _pull


def _sensor(name: str, job: Any, minutes: float) -> SensorDefinition:
    @sensor(
        name=f"pull_{name}_sensor",
        job=job,
        minimum_interval_seconds=max(30, round(minutes * 60)),
        default_status=DefaultSensorStatus.STOPPED,
        description=f"Pulls the source `{name}` every {minutes:g} minutes.",
    )
    def _poll(context: SensorEvaluationContext):
        # One pull of a source at a time: a slow export is not raced by the next tick.
        running = context.instance.get_runs(
            filters=RunsFilter(job_name=job.name, statuses=_UNFINISHED), limit=1
        )
        if running:
            return SkipReason(f"a pull of {name} is still running")
        return RunRequest(tags={SOURCE_TAG: name})

    return _poll


def pull_definitions(
    config: Config,
) -> tuple[list[AssetsDefinition], list[Any], list[SensorDefinition]]:
    """The assets, jobs and sensors of every source under `pull.sources`."""
    assets, jobs, sensors = [], [], []
    for name, src in config.pull.sources.items():
        job = define_asset_job(
            pull_job_name(name),
            selection=[pull_key(name)],
            tags={SOURCE_TAG: name},
            description=f"Pull the {src.kind} source `{name}` into the inbox.",
        )
        assets.append(_asset(name, src.kind))
        jobs.append(job)
        sensors.append(_sensor(name, job, src.interval_minutes))
    return assets, jobs, sensors
