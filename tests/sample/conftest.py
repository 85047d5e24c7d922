"""A small practice and its corrections, generated once for the sample tests."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from pipelines.core.contracts import contract_for
from pipelines.land.validate import Checked, check
from pipelines.sample import generate_corrections, generate_practice
from pipelines.sample.writer import inbox_path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# Ten weeks is the shortest history in which a duplicate payment has been refunded.
SMALL = dict(providers=3, weeks=10, seed=7)


def reference_file(name: str) -> Path:
    """A CMS/X12 reference file: the dbt seed copy, else shared/data beside the repo."""
    for candidate in (
        PROJECT_ROOT / "dbt_project" / "seeds" / name,
        PROJECT_ROOT.parent / "shared" / "data" / name,
    ):
        if candidate.exists():
            return candidate
    pytest.skip(f"reference file {name} not available")


def read_text(folder: Path, entity: str) -> pl.DataFrame:
    """A delivered file as landing sees it: every value text, line numbers from 2."""
    return pl.read_csv(inbox_path(folder, entity), infer_schema=False)


def validated(folder: Path, entity: str) -> Checked:
    batch = read_text(folder, entity).with_row_index("_line", offset=2)
    batch = batch.with_columns(pl.col("_line").cast(pl.Int64), _extra=pl.lit(None, pl.String))
    return check(batch, contract_for(entity))


def judged_row_by_row(folder: Path, entity: str) -> tuple[pl.DataFrame, pl.Series]:
    """Landing's errors and rejected mask, judging each line on its own.

    One line at a time because landing's `check` currently panics inside Polars on some
    batches in which different rows break different rules (reported to landing's owner);
    the corrections files are a handful of lines, so this costs nothing.
    """
    batch = read_text(folder, entity).with_row_index("_line", offset=2)
    batch = batch.with_columns(pl.col("_line").cast(pl.Int64), _extra=pl.lit(None, pl.String))
    results = [check(batch[i : i + 1], contract_for(entity)) for i in range(batch.height)]
    errors = pl.concat([r.errors for r in results])
    return errors, pl.concat([r.rejected_mask for r in results])


@pytest.fixture(scope="session")
def small_practice(tmp_path_factory) -> tuple[Path, dict[str, int]]:
    out = tmp_path_factory.mktemp("sample") / "inbox"
    return out, generate_practice(out, **SMALL)


@pytest.fixture(scope="session")
def small_corrections(small_practice, tmp_path_factory) -> tuple[Path, dict[str, int]]:
    out = tmp_path_factory.mktemp("sample") / "corrections"
    return out, generate_corrections(small_practice[0], out, seed=SMALL["seed"])
