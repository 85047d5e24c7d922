"""Where a practice's data lives on disk, and the typed layout of the Parquet lake.

A *home* folder holds one practice's state:

    <home>/lake/raw/<entity>/delivery=<id>/part-0.parquet       good rows, immutable
    <home>/lake/rejected/<entity>/delivery=<id>/part-0.parquet  bad rows with line and reason
    <home>/lake/ledger/delivery=<id>.parquet                    one row per delivered file
    <home>/lake/quality/<entity>/delivery=<id>.json             Great Expectations results
    <home>/lake/_incoming/<id>/                                 a delivery being written
    <home>/secrets/                                             local demo secrets (0700)
    <home>/warehouse.duckdb                                     dbt's build target
    <home>/serving.duckdb                                       read-only copy for readers
    <home>/dagster/                                             DAGSTER_HOME for this practice

The lake is the contract between landing (Python) and modelling (dbt): dbt's sources
read these globs and nothing else. Delivery ids are zero-padded sequence numbers, so
their lexical order is the order deliveries were applied. Delivery `000000` holds one
empty, typed file per entity so that dbt can build before an entity's first delivery.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from pipelines.core.contracts import (
    CONTRACTS,
    Contract,
    Kind,
    Privacy,
)

SCHEMA_DELIVERY_ID = "000000"

# Columns landing adds to every raw row: where it came from, so that the newest version
# of a key can be chosen (delivery, then line) and every row traced back to its file.
META_SCHEMA: dict[str, pl.DataType] = {
    "_delivery_id": pl.String(),
    "_source_file": pl.String(),
    "_line": pl.Int64(),
    "_received_at": pl.Datetime("us"),
    "_extra": pl.String(),  # JSON object of columns the contract does not name
    # True when the delivery was a full snapshot of its entity: keys missing from the
    # newest snapshot are then deleted downstream (the lake keeps them).
    "_snapshot": pl.Boolean(),
}

REJECTED_SCHEMA: dict[str, pl.DataType] = {
    "_delivery_id": pl.String(),
    "_source_file": pl.String(),
    "_line": pl.Int64(),
    "entity": pl.String(),
    "column": pl.String(),
    "reason": pl.String(),
    # The row as received, personal data already hashed or dropped, so that a fix can
    # be made at the source without personal data ever sitting in the rejected area.
    "_raw": pl.String(),
}

LEDGER_SCHEMA: dict[str, pl.DataType] = {
    "delivery_id": pl.String(),
    "source": pl.String(),
    # null when the entry could not be matched to an entity (or is no regular file)
    "entity": pl.String(),
    "file_name": pl.String(),
    "sha256": pl.String(),
    "size_bytes": pl.Int64(),
    "received_at": pl.Datetime("us"),
    "mode": pl.String(),  # incremental | snapshot
    "status": pl.String(),  # loaded | failed
    "rows_received": pl.Int64(),
    "rows_loaded": pl.Int64(),
    "rows_rejected": pl.Int64(),
    "rows_duplicate_key": pl.Int64(),
    "error": pl.String(),
    # Rows a route's `where` left out: received = loaded + rejected + filtered.
    "rows_filtered": pl.Int64(),
    "route": pl.String(),  # the config route that shaped the file, when one did
}

# What an X12 835 reports beyond the transactions contract (pipelines/land/x12.py): the
# patient's share of each claim (CAS group PR) and provider-level adjustments (PLB:
# interest, forward balances, levies). Kept under raw/remittance/ for the data-quality
# view; never an A/R movement of a claim.
REMITTANCE_AREA = "remittance"
REMITTANCE_SCHEMA: dict[str, pl.DataType] = {
    "kind": pl.String(),  # patient_responsibility | provider_adjustment
    "claim_id": pl.String(),
    "charge_id": pl.String(),
    "posted_date": pl.Date(),
    "reason_code": pl.String(),  # PR-2, or the PLB adjustment code (L6 interest, WO, …)
    "amount": pl.Float64(),  # as the 835 reports it: a PLB amount below 0 adds to the payment
    "payer_id": pl.String(),
    "trace_number": pl.String(),
    "_line": pl.Int64(),
    "_delivery_id": pl.String(),
    "_source_file": pl.String(),
}

_KIND_TYPES: dict[Kind, pl.DataType] = {
    Kind.STR: pl.String(),
    Kind.ENUM: pl.String(),
    Kind.CODE: pl.String(),
    Kind.INT: pl.Int64(),
    Kind.NUMBER: pl.Float64(),
    Kind.MONEY: pl.Float64(),
    Kind.DATE: pl.Date(),
    Kind.MONTH: pl.Date(),  # the first day of the month
    Kind.TIMESTAMP: pl.Datetime("us"),  # wall-clock time as written
}


def raw_schema(contract: Contract) -> dict[str, pl.DataType]:
    """The typed columns of an entity's raw Parquet files, meta columns last."""
    schema: dict[str, pl.DataType] = {}
    for col in contract.columns:
        if col.privacy is Privacy.DROP:
            continue
        schema[col.lake_name] = _KIND_TYPES[col.kind]
        if col.kind is Kind.TIMESTAMP:
            schema[col.offset_name] = pl.Int32()
    schema.update(META_SCHEMA)
    return schema


@dataclass(frozen=True)
class Home:
    """The folder that holds one practice's lake, warehouse and serving file."""

    root: Path

    @property
    def lake(self) -> Path:
        return self.root / "lake"

    @property
    def raw(self) -> Path:
        return self.lake / "raw"

    @property
    def rejected(self) -> Path:
        return self.lake / "rejected"

    @property
    def ledger(self) -> Path:
        return self.lake / "ledger"

    @property
    def quality(self) -> Path:
        return self.lake / "quality"

    @property
    def incoming(self) -> Path:
        """Scratch space for deliveries being written, outside every glob dbt reads."""
        return self.lake / "_incoming"

    @property
    def secrets(self) -> Path:
        return self.root / "secrets"

    @property
    def warehouse(self) -> Path:
        return self.root / "warehouse.duckdb"

    @property
    def serving(self) -> Path:
        return self.root / "serving.duckdb"

    @property
    def dagster_home(self) -> Path:
        return self.root / "dagster"

    def raw_partition(self, entity: str, delivery_id: str) -> Path:
        return self.raw / entity / f"delivery={delivery_id}"

    def rejected_partition(self, entity: str, delivery_id: str) -> Path:
        return self.rejected / entity / f"delivery={delivery_id}"

    def ledger_file(self, delivery_id: str) -> Path:
        return self.ledger / f"delivery={delivery_id}.parquet"

    def quality_file(self, entity: str, delivery_id: str) -> Path:
        return self.quality / entity / f"delivery={delivery_id}.json"


PRIVATE_MODE = 0o700
PRIVATE_UMASK = 0o077  # files 0600, folders 0700: the home is its owner's alone


def secure_home(home: Home) -> str | None:
    """Create the home owner-only, or close an existing one that others can enter.

    Every file below inherits the protection of the root folder: without search
    permission on it nobody else reaches the serving file, the lake, Dagster's storage or
    the reports, whatever their own modes. Returns a warning when it had to close it."""
    try:
        home.root.mkdir(mode=PRIVATE_MODE, parents=True)
        home.root.chmod(PRIVATE_MODE)  # mkdir's mode is masked by the umask
        return None
    except FileExistsError:
        pass
    mode = home.root.stat().st_mode & 0o777
    if mode & 0o077 == 0:
        return None
    home.root.chmod(mode & ~0o077)
    return (
        f"{home.root} was open to other accounts (mode {mode:o}); closed it to its owner "
        f"(chmod go-rwx). Its files were readable by them until now."
    )


def write_parquet_atomic(frame: pl.DataFrame, path: Path) -> None:
    """Write to a temporary name and rename, so a crash never leaves half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        frame.write_parquet(tmp)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:  # a full disk or a kill by exception must not leave the temporary file
        tmp.unlink(missing_ok=True)


def write_text_atomic(path: Path, text: str) -> None:
    """The same for a small text file."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def ensure_lake(home: Home) -> None:
    """Create the lake with one empty typed file per entity and remittance, rejects, ledger."""
    for contract in CONTRACTS:
        target = home.raw_partition(contract.entity, SCHEMA_DELIVERY_ID) / "part-0.parquet"
        if not target.exists():
            write_parquet_atomic(pl.DataFrame(schema=raw_schema(contract)), target)
        rejected = home.rejected_partition(contract.entity, SCHEMA_DELIVERY_ID) / "part-0.parquet"
        if not rejected.exists():
            write_parquet_atomic(pl.DataFrame(schema=REJECTED_SCHEMA), rejected)
    remittance = home.raw_partition(REMITTANCE_AREA, SCHEMA_DELIVERY_ID) / "part-0.parquet"
    if not remittance.exists():
        write_parquet_atomic(pl.DataFrame(schema=REMITTANCE_SCHEMA), remittance)
    ledger = home.ledger_file(SCHEMA_DELIVERY_ID)
    if not ledger.exists():
        write_parquet_atomic(pl.DataFrame(schema=LEDGER_SCHEMA), ledger)
