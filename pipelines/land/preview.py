"""`clinicops land --dry-run`: what each file would land as, without touching the lake.

Each file is read, mapped and judged exactly as landing would (routes.judged_batches),
in a throw-away scratch folder; nothing is written to the lake or the ledger. Per file
and entity: rows that would load, be rejected (the top reasons per column, with counts)
or be filtered out by the route's `where`.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import polars as pl

from pipelines.core.config import Config
from pipelines.land.read import FileError, NotLanded, scan
from pipelines.land.routes import judged_batches, plan, unmatched_reason

BATCH_ROWS = 100_000
TOP_REASONS = 5


@dataclass
class Preview:
    relative: str
    entity: str | None
    route: str | None = None
    rows_received: int = 0
    rows_loaded: int = 0
    rows_rejected: int = 0
    rows_filtered: int = 0
    error: str | None = None
    # (column, problem, rows, one example reason) of the most frequent rejections
    reasons: list[tuple[str, str, int, str]] = field(default_factory=list)


def preview(inbox: Path, config: Config) -> tuple[list[Preview], list[NotLanded]]:
    found = scan(inbox, config.landing.settle_seconds)
    previews = []
    for delivered in found.files:
        targets = plan(delivered, config)
        if not targets:
            previews.append(
                Preview(delivered.relative, None, error=unmatched_reason(delivered.path))
            )
        for target in targets:
            result = Preview(delivered.relative, target.entity, target.route_name)
            with tempfile.TemporaryDirectory(prefix="clinicops-dry-run-") as scratch:
                _judge(delivered, target, config, Path(scratch), result)
            previews.append(result)
    return previews, found.not_landed


def _judge(delivered, target, config: Config, scratch: Path, result: Preview) -> None:
    errors = []
    try:
        for judged in judged_batches(delivered, target, config, scratch, BATCH_ROWS, date.today()):
            rejected = int(judged.checked.rejected_mask.sum())
            result.rows_received += judged.batch.height + judged.filtered
            result.rows_filtered += judged.filtered
            result.rows_rejected += rejected
            result.rows_loaded += judged.batch.height - rejected
            errors.append(judged.checked.errors)
    except FileError as exc:
        result.error = str(exc)
        return
    if result.rows_received == 0:
        result.error = "has no data rows (a header alone, or an empty sheet)"
    if errors:
        # Reasons quote values (never personal ones): the same problem with different
        # values is grouped with its quotes masked, and one real reason kept as example.
        grouped = (
            pl.concat(errors)
            .group_by("column", pl.col("reason").str.replace_all(r"'[^']*'", "'…'").alias("p"))
            .agg(pl.len(), pl.col("reason").first().alias("example"))
            .sort(["len", "column"], descending=[True, False])
            .head(TOP_REASONS)
        )
        result.reasons = [tuple(r) for r in grouped.iter_rows()]
