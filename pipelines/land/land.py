"""Landing: every delivered file becomes one committed delivery in the lake, or a failure.

For each file, in the order files apply (files.discover): skip it if the same bytes
were landed before; otherwise reserve a delivery id, read it in batches, judge each row
(validate.py), pseudonymise (privacy.py), write good rows and rejected rows as Parquet
parts into the delivery's scratch folder, run the quality suite, move the parts into
place and write the ledger entry last. A file that cannot be read at all is recorded
as failed, with one error, and the next file lands.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl

from pipelines.core import faults
from pipelines.core.config import Config
from pipelines.core.contracts import Contract, Privacy, contract_for
from pipelines.core.failures import OperatorError, is_disk_full, operator_error
from pipelines.core.home import (
    REJECTED_SCHEMA,
    REMITTANCE_AREA,
    Home,
    ensure_lake,
    raw_schema,
)
from pipelines.core.home_lock import home_lock
from pipelines.land import ledger as ledger_mod
from pipelines.land import routes
from pipelines.land.pseudonymise import Pseudonymiser, resolve_key
from pipelines.land.quality import QualityRun
from pipelines.land.read import (
    Delivered,
    FileError,
    NotLanded,
    scan,
)

log = logging.getLogger(__name__)

Progress = Callable[[str], None]

# Rows per batch: big enough to keep Polars efficient, small enough that a file of tens
# of millions of rows never sits in memory whole. Landing holds about 4.5 KB per row of a
# wide file (appointments) while it judges a batch: some 450 MB at 100,000 rows, whatever
# the file's size (measured with tests/reliability/bigfile.py).
BATCH_ROWS = 100_000
# Great Expectations sees at most this many rows of each batch (a seeded random sample
# above it), so a tenth of a large file. Landing's own checks already judged every row;
# GE re-checks a sample because its pandas engine, with the fingerprint it hashes of
# every batch, cost 60 % of landing when it saw every row (docs/benchmarks.md).
QUALITY_SAMPLE_ROWS = 10_000


@dataclass
class FileResult:
    """What happened to one delivered file."""

    path: Path
    source: str
    entity: str | None
    delivery_id: str | None  # None when skipped as a duplicate
    status: str  # loaded | failed | duplicate (same bytes already loaded: a no-op)
    rows_received: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    rows_duplicate_key: int = 0
    error: str | None = None
    quality: dict[str, Any] | None = None  # quality.QualityRun.summary()
    rows_filtered: int = 0  # left out by the route's `where`: counted, never dropped silently
    route: str | None = None  # the config route that shaped it, when one did
    relative: str = ""  # path under the inbox

    @property
    def file_name(self) -> str:
        return ledger_mod.printable_name(self.path.name)

    @property
    def label(self) -> str:
        return self.relative or self.path.name


@dataclass
class LandingReport:
    files: list[FileResult] = field(default_factory=list)
    # Debris of crashed landings removed before this one started.
    recovered: list[Path] = field(default_factory=list)
    # Inbox entries not landed (not a regular file, a link leaving the inbox, still
    # being written), each with its reason.
    not_landed: list[NotLanded] = field(default_factory=list)

    @property
    def refused(self) -> list[NotLanded]:
        """Entries refused for good (a file still being written is only waiting)."""
        return [n for n in self.not_landed if not n.waiting]

    @property
    def failed(self) -> list[FileResult]:
        return [f for f in self.files if f.status == "failed"]

    @property
    def loaded(self) -> list[FileResult]:
        return [f for f in self.files if f.status == "loaded"]

    @property
    def duplicates(self) -> list[FileResult]:
        return [f for f in self.files if f.status == "duplicate"]

    @property
    def totals(self) -> dict[str, int]:
        return {
            "files": len(self.files),
            "files_loaded": len(self.loaded),
            "files_failed": len(self.failed),
            "files_duplicate": len(self.duplicates),
            "rows_received": sum(f.rows_received for f in self.files),
            "rows_loaded": sum(f.rows_loaded for f in self.files),
            "rows_rejected": sum(f.rows_rejected for f in self.files),
            "rows_filtered": sum(f.rows_filtered for f in self.files),
            "rows_duplicate_key": sum(f.rows_duplicate_key for f in self.files),
            "entries_not_landed": len(self.not_landed),
        }


def land_inbox(
    inbox: Path,
    home: Home,
    config: Config,
    progress: Progress | None = None,
    *,
    pseudonym_key: bytes | None = None,
) -> LandingReport:
    """Land every file in an inbox folder (inbox/<source>/<file>), all entities.

    `pseudonym_key` defaults to privacy.resolve_key(home): $CLINICOPS_PSEUDONYM_KEY, else
    the home's demo key (privacy.ensure_demo_key), else a PseudonymKeyError.
    """
    found = scan(inbox, config.landing.settle_seconds)
    jobs = [(d, t) for d in found.files for t in routes.plan(d, config) or [None]]
    report = _land(jobs, home, config, progress, pseudonym_key)
    report.not_landed = found.not_landed
    _record_refusals(found.not_landed, home, progress)
    return report


def land_entity(
    inbox: Path,
    home: Home,
    config: Config,
    entity: str,
    progress: Progress | None = None,
    *,
    pseudonym_key: bytes | None = None,
) -> LandingReport:
    """Land only the files of one entity (a Dagster asset per entity calls this)."""
    contract_for(entity)  # an unknown entity is the caller's error, not an empty report
    found = scan(inbox, config.landing.settle_seconds)
    jobs = [(d, t) for d in found.files for t in routes.plan(d, config) if t.entity == entity]
    return _land(jobs, home, config, progress, pseudonym_key)


def land_unmatched(
    inbox: Path,
    home: Home,
    config: Config,
    progress: Progress | None = None,
    *,
    pseudonym_key: bytes | None = None,
) -> LandingReport:
    """Record what no entity takes: files matching no route or entity name, and entries
    that are not landed (a folder named like a file, a FIFO, a link leaving the inbox).

    The per-entity landings (Dagster) never see these; this makes them failed ledger
    entries, so they are reported by name and shown on the data-quality page.
    """
    found = scan(inbox, config.landing.settle_seconds)
    jobs = [(d, None) for d in found.files if not routes.plan(d, config)]
    report = _land(jobs, home, config, progress, pseudonym_key)
    report.not_landed = found.not_landed
    _record_refusals(found.not_landed, home, progress)
    return report


def _land(
    jobs: list[tuple[Delivered, routes.Target | None]],
    home: Home,
    config: Config,
    progress: Progress | None,
    pseudonym_key: bytes | None,
) -> LandingReport:
    say = progress or (lambda _msg: None)
    pseudonymiser = Pseudonymiser(pseudonym_key if pseudonym_key is not None else resolve_key(home))
    # One writer per home (pipelines/core/home_lock.py): the same-bytes check and the ledger
    # entry that follows it are atomic only because no other landing runs meanwhile.
    with home_lock(home.root):
        ensure_lake(home)
        report = LandingReport(recovered=ledger_mod.recover(home))
        if report.recovered:
            say(f"removed {len(report.recovered)} leftover(s) of an interrupted landing")
        for delivered, target in jobs:
            report.files.append(land_file(delivered, target, home, config, pseudonymiser, say))
    return report


def _record_refusals(entries: list[NotLanded], home: Home, progress: Progress | None) -> None:
    """A failed ledger entry for each refused inbox entry; waiting files are only said."""
    say = progress or (lambda _msg: None)
    with home_lock(home.root):
        _record_each(entries, home, say)


def _record_each(entries: list[NotLanded], home: Home, say: Progress) -> None:
    for entry in entries:
        say(f"not landed: {entry.relative} {entry.reason}")
        if entry.waiting:
            continue
        reservation = ledger_mod.reserve(home)
        try:
            ledger_mod.write_entry(
                home,
                {
                    "delivery_id": reservation.delivery_id,
                    "source": entry.source,
                    "entity": None,
                    "file_name": entry.relative.split("/", 1)[-1]
                    if entry.source
                    else entry.relative,
                    "received_at": datetime.now(UTC).replace(tzinfo=None),
                    "mode": "incremental",
                    "status": "failed",
                    "rows_received": 0,
                    "rows_loaded": 0,
                    "rows_rejected": 0,
                    "rows_filtered": 0,
                    "rows_duplicate_key": 0,
                    "error": f"{entry.relative}: {entry.reason}",
                },
            )
        finally:
            reservation.release()


def _fingerprint(path: Path) -> tuple[str, int]:
    """sha256 and size of the bytes read, from one open file (it may be moved meanwhile)."""
    with open(path, "rb") as fh:
        return hashlib.file_digest(fh, "sha256").hexdigest(), os.fstat(fh.fileno()).st_size


def _os_problem(exc: OSError, delivered: Delivered) -> str:
    """What an OSError met while landing a file means for that file, in words."""
    if not delivered.path.exists():
        return (
            "was moved or removed while it was being landed; nothing of it was kept, and it "
            "lands when it is back in the inbox"
        )
    if is_disk_full(exc):
        return "could not be landed: the disk holding the home is full"
    return f"could not be read or written ({exc.strerror or type(exc).__name__})"


def land_file(
    delivered: Delivered,
    target: routes.Target | None,
    home: Home,
    config: Config,
    pseudonymiser: Pseudonymiser,
    say: Progress,
) -> FileResult:
    """Land one file as one entity (`target`), or record that nothing takes it (None)."""
    name = ledger_mod.printable_name(delivered.name)
    label = delivered.label if name == delivered.name else f"{delivered.source}/{name}".lstrip("/")
    if name != delivered.name:
        say(f"{label}: the file name is not valid UTF-8; it is recorded as {name}")
    entity = target.entity if target else None
    route = target.route_name if target else None
    source = target.source if target else delivered.source
    if target and target.route is not None:
        label = f"{label} (route {route})"
    unreadable: OSError | None = None
    sha256, size = None, None
    try:
        sha256, size = _fingerprint(delivered.path)
    except OSError as exc:
        unreadable = exc
    if sha256 is not None and (sha256, entity, route) in ledger_mod.loaded_keys(home):
        say(f"{label}: already landed (same bytes), nothing to do")
        return FileResult(delivered.path, source, entity, None, "duplicate", route=route,
                          relative=delivered.relative)  # fmt: skip

    received_at = datetime.now(UTC).replace(tzinfo=None)
    snapshot = target is not None and _is_snapshot(target, config)
    reservation = ledger_mod.reserve(home)
    delivery_id = reservation.delivery_id
    result = FileResult(delivered.path, source, entity, delivery_id, "loaded", route=route,
                        relative=delivered.relative)  # fmt: skip
    say(f"{label}: landing as delivery {delivery_id}")
    stop: OperatorError | None = None
    try:
        try:
            if unreadable is not None:
                raise unreadable
            if target is None:
                raise FileError(routes.unmatched_reason(delivered.path))
            _write_delivery(
                delivered,
                target,
                home,
                config,
                pseudonymiser,
                reservation.scratch,
                delivery_id,
                received_at,
                snapshot,
                result,
                say,
            )
        except FileError as exc:
            _fail(result, f"{label}: {exc}")
        except OSError as exc:
            # A full disk stops the whole landing (every next file would fail the same
            # way) once this file's failure is recorded; a vanished file stops only itself.
            stop = operator_error(exc, "landing", home.root) if is_disk_full(exc) else None
            _fail(result, f"{label}: {_os_problem(exc, delivered)}")
        except Exception as exc:  # one broken file must not stop the others
            if is_disk_full(exc):  # Polars says so in its own error types
                stop = operator_error(exc, "landing", home.root)
                _fail(result, f"{label}: could not be landed: the disk holding the home is full")
            else:
                log.exception("landing %s failed", label)
                _fail(
                    result, f"{label}: unexpected {type(exc).__name__} while landing (see the log)"
                )
        if result.status == "loaded":
            try:
                _commit(home, reservation.scratch, result)
            except Exception as exc:
                _uncommit(home, result)
                if not isinstance(exc, OSError) and not is_disk_full(exc):
                    raise
                stop = operator_error(exc, "landing", home.root) if is_disk_full(exc) else None
                _fail(result, f"{label}: {_os_problem(exc, delivered)}")
        if result.status == "failed":  # its parts are not needed; free their space first
            shutil.rmtree(reservation.scratch, ignore_errors=True)

        def entry() -> dict[str, Any]:
            return {
                "delivery_id": delivery_id,
                "source": source,
                "entity": entity,
                "route": route,
                "file_name": ledger_mod.printable_name(
                    delivered.relative.split("/", 1)[-1]
                    if delivered.source
                    else delivered.relative or delivered.name
                ),
                "sha256": sha256,
                "size_bytes": size,
                "received_at": received_at,
                "mode": "snapshot" if snapshot else "incremental",
                "status": result.status,
                "rows_received": result.rows_received,
                "rows_loaded": result.rows_loaded,
                "rows_rejected": result.rows_rejected,
                "rows_filtered": result.rows_filtered,
                "rows_duplicate_key": result.rows_duplicate_key,
                "error": result.error,
            }

        try:
            ledger_mod.write_entry(home, entry())
        except Exception as exc:
            if not is_disk_full(exc):
                raise
            # The disk filled up at the ledger entry itself: take the delivery back out
            # of the lake, which frees the room its failure entry needs.
            _uncommit(home, result)
            shutil.rmtree(reservation.scratch, ignore_errors=True)
            _fail(result, f"{label}: could not be landed: the disk holding the home is full")
            stop = operator_error(exc, "landing", home.root)
            with contextlib.suppress(Exception):  # recorded if there is room, else not
                ledger_mod.write_entry(home, entry())
    finally:
        reservation.release()
    if stop is not None:
        say(f"failed: {result.error}")
        raise stop
    faults.point("land.between_files")
    if result.status == "failed":
        say(f"failed: {result.error}")
    else:
        filtered = f", {result.rows_filtered:,} filtered" if result.rows_filtered else ""
        say(
            f"{label}: {result.rows_loaded:,} rows loaded, {result.rows_rejected:,} rejected"
            f"{filtered}, {result.rows_duplicate_key:,} repeated keys"
        )
    return result


def _fail(result: FileResult, error: str) -> None:
    """A failed file loads nothing: its counts are zero and its scratch is discarded."""
    result.status = "failed"
    result.error = error
    result.rows_received = result.rows_loaded = result.rows_rejected = 0
    result.rows_duplicate_key = result.rows_filtered = 0
    result.quality = None


def _is_snapshot(target: routes.Target, config: Config) -> bool:
    if target.route is not None and target.route.snapshot is not None:
        return target.route.snapshot
    return config.is_snapshot(target.source, target.entity)


def _write_delivery(
    delivered: Delivered,
    target: routes.Target,
    home: Home,
    config: Config,
    pseudonymiser: Pseudonymiser,
    scratch: Path,
    delivery_id: str,
    received_at: datetime,
    snapshot: bool,
    result: FileResult,
    say: Progress,
) -> None:
    """Read, judge and write every batch of one file into its scratch folder."""
    contract = contract_for(target.entity)
    meta = {
        "_delivery_id": delivery_id,
        "_source_file": ledger_mod.printable_name(delivered.name),
        "_received_at": received_at,
        "_snapshot": snapshot,
    }
    # The practice's own calendar day: a posting dated after it is rejected (validate.py).
    landed_on = received_at.replace(tzinfo=UTC).astimezone(ZoneInfo(config.practice.timezone))
    landed_on = landed_on.date()
    key = [contract.column(k).lake_name for k in contract.key]
    key_hashes: list[pl.Series] = []
    quality = QualityRun(contract.entity)
    parts = {"raw": 0, "rejected": 0}
    batches = routes.judged_batches(delivered, target, config, scratch, BATCH_ROWS, landed_on)
    for number, judged in enumerate(batches):
        batch, checked = judged.batch, judged.checked
        good = _to_lake(checked.good, contract, pseudonymiser, meta)
        rejected_rows = int(checked.rejected_mask.sum())
        if good.height:
            _write_part(good, scratch / "raw", parts, "raw")
        if rejected_rows:
            rejected = _rejected(
                batch.filter(checked.rejected_mask), checked.errors, contract, pseudonymiser, meta
            )
            _write_part(rejected, scratch / "rejected", parts, "rejected")
        result.rows_received += batch.height + judged.filtered
        result.rows_filtered += judged.filtered
        result.rows_loaded += good.height
        result.rows_rejected += rejected_rows
        key_hashes.append(good.select(pl.struct(key).hash()).to_series())
        quality.add(contract, good, QUALITY_SAMPLE_ROWS)
        faults.point("land.batch")
        if number or batch.height >= BATCH_ROWS:
            say(f"{delivered.label}: {result.rows_received:,} rows read")
    if result.rows_received == 0:
        raise FileError("has no data rows (a header alone, or an empty sheet)")
    hashes = pl.concat(key_hashes)
    result.rows_duplicate_key = hashes.len() - hashes.n_unique()
    result.quality = quality.write(scratch / "quality.json", result.rows_duplicate_key)


def _write_part(frame: pl.DataFrame, folder: Path, parts: dict[str, int], area: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    frame.write_parquet(folder / f"part-{parts[area]}.parquet")
    parts[area] += 1


def _pseudonymised(
    frame: pl.DataFrame, contract: Contract, pseudonymiser: Pseudonymiser
) -> pl.DataFrame:
    """Personal-data columns hashed (under their lake name) or dropped."""
    for col in contract.columns:
        if col.privacy is Privacy.HASH:
            hashed = pseudonymiser.hash_series(frame.get_column(col.name))
            frame = frame.with_columns(hashed.alias(col.name)).rename({col.name: col.lake_name})
        elif col.privacy is Privacy.DROP:
            frame = frame.drop(col.name)
    return frame


def _to_lake(
    good: pl.DataFrame, contract: Contract, pseudonymiser: Pseudonymiser, meta: dict[str, Any]
) -> pl.DataFrame:
    schema = raw_schema(contract)
    frame = _pseudonymised(good, contract, pseudonymiser).with_columns(
        pl.lit(value).alias(name) for name, value in meta.items()
    )
    return frame.select(pl.col(name).cast(dtype) for name, dtype in schema.items())


def _rejected(
    bad_rows: pl.DataFrame,
    errors: pl.DataFrame,
    contract: Contract,
    pseudonymiser: Pseudonymiser,
    meta: dict[str, Any],
) -> pl.DataFrame:
    """One record per broken rule, each with the row as received, personal data removed."""
    names = list(contract.names)
    # Trimmed like landed values, so a rejected row's patient_key matches the loaded ones.
    trimmed = bad_rows.with_columns(
        [
            pl.col(c.name).str.strip_chars().replace("", None)
            for c in contract.columns
            if c.privacy is Privacy.HASH
        ]
    )
    safe = _pseudonymised(trimmed.select("_line", *names), contract, pseudonymiser)
    # A line with more fields than its header has its values under the wrong names, so
    # pseudonymising by column cannot protect it: nothing of it is kept but its reason.
    whole = pl.col("_problem").is_null() if "_problem" in bad_rows.columns else pl.lit(True)
    as_received = safe.with_columns(bad_rows.select(whole.alias("_whole"))).select(
        "_line",
        pl.when("_whole")
        .then(pl.struct(pl.exclude("_line", "_whole")).struct.json_encode())
        .alias("_raw"),
    )
    return (
        errors.join(as_received, on="_line", how="left", maintain_order="left")
        .with_columns(
            pl.lit(meta["_delivery_id"]).alias("_delivery_id"),
            pl.lit(meta["_source_file"]).alias("_source_file"),
            pl.lit(contract.entity).alias("entity"),
        )
        .select(pl.col(name).cast(dtype) for name, dtype in REJECTED_SCHEMA.items())
    )


def _commit(home: Home, scratch: Path, result: FileResult) -> None:
    """Move a delivery's parts into the lake; the ledger entry that follows commits it."""
    assert result.entity is not None and result.delivery_id is not None
    ledger_mod.fsync_tree(scratch)
    moves = [
        (scratch / "raw", home.raw_partition(result.entity, result.delivery_id)),
        (scratch / "rejected", home.rejected_partition(result.entity, result.delivery_id)),
        (scratch / "quality.json", home.quality_file(result.entity, result.delivery_id)),
        # An 835's patient responsibility and provider-level adjustments (land/x12.py).
        (scratch / REMITTANCE_AREA, home.raw_partition(REMITTANCE_AREA, result.delivery_id)),
    ]
    for source, target in moves:
        if source.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(source, target)
    faults.point("land.before_ledger")


def _uncommit(home: Home, result: FileResult) -> None:
    """Take back what _commit moved into the lake when the delivery cannot be committed."""
    if result.entity is None or result.delivery_id is None:
        return
    for path in (
        home.raw_partition(result.entity, result.delivery_id),
        home.rejected_partition(result.entity, result.delivery_id),
    ):
        shutil.rmtree(path, ignore_errors=True)
    home.quality_file(result.entity, result.delivery_id).unlink(missing_ok=True)
