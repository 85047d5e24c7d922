"""Every case of the hostile-input corpus lands with exactly the outcome it declares.

All cases of a configuration group land in one scan into one home, so a file that
breaks also proves that the files around it still land.
"""

from __future__ import annotations

import json
from collections import defaultdict

import polars as pl
import pytest

from pipelines.core.home import SCHEMA_DELIVERY_ID, Home
from pipelines.land import FileResult, land_inbox, ledger
from tests.landing.conftest import TEST_KEY
from tests.reliability.corpus import CONFIGS, Case, build_corpus, write_case

CORPUS = build_corpus()


@pytest.fixture(scope="module")
def landed(tmp_path_factory) -> tuple[Home, dict[str, FileResult]]:
    root = tmp_path_factory.mktemp("corpus")
    home = Home(root / "home")
    by_group: dict[str, list[Case]] = defaultdict(list)
    for case in CORPUS:
        by_group[case.group].append(case)
    results: dict[str, FileResult] = {}
    for group, cases in by_group.items():
        inbox = root / f"inbox-{group}"
        for case in cases:
            write_case(case, inbox)
        report = land_inbox(inbox, home, CONFIGS[group], pseudonym_key=TEST_KEY)
        for result in report.files:
            results[f"{group}/{result.relative}"] = result
    return home, results


def test_the_corpus_is_large_and_covers_every_entity():
    assert len(CORPUS) >= 100
    assert len({c.name for c in CORPUS if c.error}) >= 30
    assert len({c.name for c in CORPUS if c.rejected}) >= 30


@pytest.mark.parametrize("case", CORPUS, ids=lambda c: f"{c.entity}-{c.name}")
def test_case_outcome(landed, case: Case):
    home, results = landed
    result = results[f"{case.group}/{case.folder}/{case.file}".replace("//", "/")]
    if case.error:
        assert result.status == "failed", (case.name, result)
        assert case.error in result.error, result.error
        label = ledger.printable_name(f"{case.folder}/{case.file}: ".lstrip("/"))
        assert result.error.startswith(label), result.error
        assert result.rows_received == 0
        return
    assert result.status == "loaded", result.error
    assert result.rows_loaded == case.loaded
    assert result.rows_rejected == len({line for line, _, _ in case.rejected})
    assert result.rows_received == result.rows_loaded + result.rows_rejected
    assert result.rows_duplicate_key == case.duplicate_keys
    rejected = _partition(home.rejected_partition(result.entity, result.delivery_id))
    assert sorted(rejected.select("_line", "column").rows()) == sorted(
        (line, column) for line, column, _ in case.rejected
    )
    for line, column, fragment in case.rejected:
        (reason,) = rejected.filter((pl.col("_line") == line) & (pl.col("column") == column))[
            "reason"
        ]
        assert fragment in reason, reason
        assert set(rejected["_source_file"]) == {case.file}
    raw = _partition(home.raw_partition(result.entity, result.delivery_id))
    assert raw.height == case.loaded
    if case.values:
        last = raw.sort("_line").row(-1, named=True)
        assert {k: last[k] for k in case.values} == case.values


def test_nothing_half_written(landed):
    home, results = landed
    entries = ledger.ledger(home)
    assert entries.height == len(results) - sum(r.status == "duplicate" for r in results.values())
    assert (entries["rows_received"] == entries["rows_loaded"] + entries["rows_rejected"]).all()
    failed = set(entries.filter(pl.col("status") == "failed")["delivery_id"])
    for area in (home.raw, home.rejected, home.quality):
        ids = {p.name.removeprefix("delivery=").removesuffix(".json") for p in area.glob("*/*")}
        assert not ids & failed, f"a failed delivery left files in {area}"
        assert ids - {SCHEMA_DELIVERY_ID} <= set(entries["delivery_id"])
    assert not any(home.incoming.iterdir())
    # Errors name problems, never values: nothing personal or quoted from the data.
    for error in entries["error"].drop_nulls():
        assert "PAT-SECRET" not in error and "`" not in error
    extra = pl.read_parquet(home.raw / "payers" / "*" / "*.parquet")["_extra"].drop_nulls()
    assert not any("Patient" in json.loads(e) for e in extra)


def _partition(folder) -> pl.DataFrame:
    parts = sorted(folder.glob("*.parquet"))
    return pl.read_parquet(parts) if parts else pl.DataFrame({"_line": [], "column": []})
