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

from pipelines.core.contracts import CONTRACTS
from pipelines.core.home import ensure_lake
from pipelines.land import LandingReport, land_entity
from pipelines.land.land import land_unmatched
from pipelines.land.pseudonymise import resolve_key
from pipelines.orchestrate.defs.resources import ClinicopsResource

LEDGER_KEY = AssetKey(["landing", "ledger"])
REJECTED_KEY = AssetKey(["landing", "rejected"])
# What X12 835s report beyond transactions (lake.REMITTANCE_AREA); written while the
# transactions asset lands the 835s.
REMITTANCE_KEY = AssetKey(["lake", "remittance"])
EXPECTATIONS_CHECK = "contract_expectations"
ACCOUNTING_CHECK = "rows_accounted_for"
# Fails (severity ERROR) when a file of the entity was refused: the run still publishes,
# but what that file held is missing from every figure until it is fixed.
FILES_CHECK = "files_landed"
# On the ledger: inbox entries no entity takes (unknown names, folders, FIFOs, links).
ENTRIES_CHECK = "entries_landed"


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
        AssetSpec(
            REMITTANCE_KEY,
            group_name="landing",
            skippable=True,
            description="835 patient responsibility (CAS PR) and provider-level adjustments (PLB).",
        ),
    ],
    check_specs=[
        *[
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
                    description="rows received = loaded + rejected + filtered, per delivery.",
                ),
                AssetCheckSpec(
                    FILES_CHECK,
                    asset=entity_key(c.entity),
                    description="Every delivered file of the entity was landed, none refused.",
                ),
            )
        ],
        AssetCheckSpec(
            ENTRIES_CHECK,
            asset=LEDGER_KEY,
            description="Every inbox entry was taken by an entity; none refused or unknown.",
        ),
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
    if LEDGER_KEY in selected:
        reports = [
            land_unmatched(inbox, home, config, progress=context.log.info)
            for inbox in clinicops.inbox_dirs()
        ]
        refused = [f"{f.label}: {f.error}" for r in reports for f in r.files] + [
            f"{n.relative}: {n.reason}" for r in reports for n in r.refused
        ]
        yield MaterializeResult(asset_key=LEDGER_KEY)
        yield AssetCheckResult(
            asset_key=LEDGER_KEY,
            check_name=ENTRIES_CHECK,
            passed=not refused,
            severity=AssetCheckSeverity.ERROR,
            metadata={"refused": "\n".join(refused) or "none"},
        )
    for key in (REJECTED_KEY, REMITTANCE_KEY):
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
            "rows_filtered": sum(f.rows_filtered for f in files),
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
    unbalanced = [
        f.label
        for f in landed
        if f.rows_received != f.rows_loaded + f.rows_rejected + f.rows_filtered
    ]
    yield AssetCheckResult(
        asset_key=key,
        check_name=ACCOUNTING_CHECK,
        passed=not unbalanced,
        metadata={"unbalanced": ", ".join(unbalanced) or "none"},
    )
    refused = [f"{f.label}: {f.error}" for f in files if f.status == "failed"]
    yield AssetCheckResult(
        asset_key=key,
        check_name=FILES_CHECK,
        passed=not refused,
        severity=AssetCheckSeverity.ERROR,
        metadata={"refused": "\n".join(refused) or "none"},
    )
