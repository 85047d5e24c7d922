"""Landing assets: one asset per contract entity (`lake/<entity>`), plus the ledger and
the rejected rows, all materialised by one subsettable multi-asset over the landing
library. Great Expectations results of each delivery become asset checks.

The keys match the dbt sources (`source('lake', <entity>)`, `source('landing', ...)`),
so dagster-dbt places the models downstream of the files they read.
"""

from dagster import (
    AssetCheckResult,
    AssetCheckSeverity,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetKey,
    AssetSpec,
    MaterializeResult,
    multi_asset,
)

from pipelines.contracts import CONTRACTS
from pipelines.defs.resources import ClinicopsResource
from pipelines.lake import ensure_lake
from pipelines.landing import LandingReport, land_entity
from pipelines.privacy import resolve_key

LEDGER_KEY = AssetKey(["landing", "ledger"])
REJECTED_KEY = AssetKey(["landing", "rejected"])
EXPECTATIONS_CHECK = "contract_expectations"
ACCOUNTING_CHECK = "rows_accounted_for"


def entity_key(entity: str) -> AssetKey:
    return AssetKey(["lake", entity])


@multi_asset(
    name="land_inbox",
    specs=[
        *[
            AssetSpec(
                entity_key(c.entity),
                group_name="landing",
                description=c.description,
                kinds={"polars", "parquet"},
                skippable=True,
            )
            for c in CONTRACTS
        ],
        AssetSpec(
            LEDGER_KEY,
            group_name="landing",
            skippable=True,
            description="One row per delivered file: checksum, counts, status.",
        ),
        AssetSpec(
            REJECTED_KEY,
            group_name="landing",
            skippable=True,
            description="Rows kept aside with file, line, column and reason.",
        ),
    ],
    check_specs=[
        spec
        for c in CONTRACTS
        for spec in (
            AssetCheckSpec(
                EXPECTATIONS_CHECK,
                asset=entity_key(c.entity),
                description="The Great Expectations suite built from the contract.",
            ),
            AssetCheckSpec(
                ACCOUNTING_CHECK,
                asset=entity_key(c.entity),
                description="rows received = rows loaded + rows rejected, per delivery.",
            ),
        )
    ],
    can_subset=True,
)
def land_inbox(context: AssetExecutionContext, clinicops: ClinicopsResource):
    home = clinicops.practice_home()
    config = clinicops.practice_config()
    ensure_lake(home)
    resolve_key(home)  # no key, no landing: stop before any file is read
    selected = context.selected_asset_keys
    for contract in CONTRACTS:
        key = entity_key(contract.entity)
        if key not in selected:
            continue
        reports = [
            land_entity(inbox, home, config, contract.entity, progress=context.log.info)
            for inbox in clinicops.inbox_dirs()
        ]
        yield from _entity_results(contract.entity, reports)
    for key in (LEDGER_KEY, REJECTED_KEY):
        if key in selected:
            yield MaterializeResult(asset_key=key)


def _entity_results(entity: str, reports: list[LandingReport]):
    files = [f for report in reports for f in report.files]
    key = entity_key(entity)
    yield MaterializeResult(
        asset_key=key,
        metadata={
            "files": len(files),
            "files_failed": sum(f.status == "failed" for f in files),
            "rows_received": sum(f.rows_received for f in files),
            "rows_loaded": sum(f.rows_loaded for f in files),
            "rows_rejected": sum(f.rows_rejected for f in files),
            "errors": "\n".join(f"{f.path.name}: {f.error}" for f in files if f.error) or "none",
        },
    )
    landed = [f for f in files if f.status == "loaded"]
    failed_expectations = [
        f"{f.path.name}: {name}"
        for f in landed
        for name, ok in (f.quality or {}).get("expectations", {}).items()
        if not ok
    ]
    yield AssetCheckResult(
        asset_key=key,
        check_name=EXPECTATIONS_CHECK,
        passed=not failed_expectations,
        severity=AssetCheckSeverity.WARN,
        metadata={"deliveries": len(landed), "failed": "\n".join(failed_expectations) or "none"},
    )
    unbalanced = [f.path.name for f in landed if f.rows_received != f.rows_loaded + f.rows_rejected]
    yield AssetCheckResult(
        asset_key=key,
        check_name=ACCOUNTING_CHECK,
        passed=not unbalanced,
        metadata={"unbalanced": ", ".join(unbalanced) or "none"},
    )
