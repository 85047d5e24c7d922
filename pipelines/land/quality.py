"""Great Expectations suites built from the contracts, run on each delivery in memory.

Landing has already rejected every row that breaks a contract rule, so on landed rows
these expectations are a second, independent line of defence (a landing bug shows up as
a failed expectation, and Dagster surfaces them as asset checks). Key uniqueness is the
one expectation that can fail on good data: a file may repeat a key (the later line
wins), so it is a warning, not an error.

GE runs on pandas frames through an ephemeral context: its SQL datasource fails on
DuckDB (shared/STACK_NOTES.md). GE is imported on first use because importing it takes
several seconds, which the CLI should not pay when it does not validate.
"""

from __future__ import annotations

import functools
import json
import sys
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from pipelines.core.contracts import (
    Contract,
    Kind,
    Privacy,
    contract_for,
)

WARNING = "warning"
CRITICAL = "critical"
HMAC_HEX_CHARS = 64

_lock = threading.Lock()


@contextmanager
def _without_pyspark():
    """Great Expectations imports PySpark whenever it is installed (it is, for the spark
    engine, which runs dbt in a child process); PySpark then warns that it does not
    support pandas 3. We validate pandas frames only, so GE is loaded with PySpark
    hidden (its compatibility shim falls back to "not installed"), and anything that
    does use Spark later in this process imports it normally."""
    hidden = [name for name in ("pyspark",) if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]  # `import pyspark` -> ImportError
    try:
        yield
    finally:
        for name in hidden:
            if sys.modules.get(name) is None:
                del sys.modules[name]


def _gx() -> Any:
    """The great_expectations package, loaded without PySpark."""
    with _without_pyspark():
        import great_expectations as gx
        import great_expectations.data_context.types.base  # noqa: F401
    return gx


@functools.cache
def _context() -> Any:
    gx = _gx()
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(),
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False),
    )
    context = gx.get_context(mode="ephemeral", project_config=config)
    context.data_sources.add_pandas("landing")
    return context


def expectation_suite(contract: Contract) -> Any:
    """The suite of one entity, named `<entity>`, from the contract's declared rules."""
    gx = _gx()

    e = gx.expectations
    suite = gx.ExpectationSuite(name=contract.entity)
    for col in contract.columns:
        if col.privacy is Privacy.DROP:
            continue
        name = col.lake_name
        if col.required:
            suite.add_expectation(e.ExpectColumnValuesToNotBeNull(column=name))
        if col.kind is Kind.ENUM:
            suite.add_expectation(e.ExpectColumnValuesToBeInSet(column=name, value_set=col.enum))
        if col.min_value is not None or col.max_value is not None:
            suite.add_expectation(
                e.ExpectColumnValuesToBeBetween(
                    column=name,
                    min_value=col.min_value,
                    max_value=col.max_value,
                    strict_min=col.min_exclusive,
                )
            )
        if col.length is not None:
            suite.add_expectation(e.ExpectColumnValueLengthsToEqual(column=name, value=col.length))
        if col.privacy is Privacy.HASH:
            # A value of any other length would be a raw id that escaped pseudonymisation.
            suite.add_expectation(
                e.ExpectColumnValueLengthsToEqual(column=name, value=HMAC_HEX_CHARS)
            )
    key = [contract.column(k).lake_name for k in contract.key]
    if len(key) == 1:
        suite.add_expectation(e.ExpectColumnValuesToBeUnique(column=key[0], severity=WARNING))
    else:
        suite.add_expectation(e.ExpectCompoundColumnsToBeUnique(column_list=key, severity=WARNING))
    return suite


@functools.cache
def _suite_and_batch_definition(entity: str) -> tuple[Any, Any]:
    datasource = _context().data_sources.get("landing")
    asset = datasource.add_dataframe_asset(entity)
    return expectation_suite(contract_for(entity)), asset.add_batch_definition_whole_dataframe(
        "delivery"
    )


def validate(contract: Contract, frame: pl.DataFrame) -> dict[str, Any]:
    """Run the entity's suite on landed rows; the GE result as a JSON-able dict."""
    columns = [c.lake_name for c in contract.columns if c.privacy is not Privacy.DROP]
    with _lock:
        suite, batch_definition = _suite_and_batch_definition(contract.entity)
        batch = batch_definition.get_batch(
            batch_parameters={"dataframe": frame.select(columns).to_pandas()}
        )
        return batch.validate(suite).to_json_dict()


@dataclass
class QualityRun:
    """GE results of one delivery, merged over the batches it was landed in.

    Per-batch uniqueness only sees one batch; the delivery-wide count of repeated keys
    is landing's `rows_duplicate_key`, which is recorded here too.
    """

    entity: str
    rows_landed: int = 0
    rows_validated: int = 0
    batches: list[dict[str, Any]] = field(default_factory=list)

    def add(self, contract: Contract, frame: pl.DataFrame, sample_rows: int | None) -> None:
        """Validate a batch, or a seeded random sample of it when it is larger than that."""
        self.rows_landed += frame.height
        if frame.height == 0:
            return
        if sample_rows is not None and frame.height > sample_rows:
            frame = frame.sample(n=sample_rows, seed=frame.height)
        self.rows_validated += frame.height
        self.batches.append(validate(contract, frame))

    def summary(self, rows_duplicate_key: int) -> dict[str, Any]:
        merged: dict[str, dict[str, Any]] = {}
        for result in self.batches:
            for r in result["results"]:
                cfg = r["expectation_config"]
                kwargs = {k: v for k, v in cfg["kwargs"].items() if k != "batch_id"}
                ident = json.dumps([cfg["type"], kwargs], sort_keys=True, default=str)
                column = kwargs.get("column") or ",".join(kwargs.get("column_list", []))
                entry = merged.setdefault(
                    ident,
                    {
                        "name": f"{cfg['type']}({column})",
                        "expectation": cfg["type"],
                        "column": column,
                        "severity": cfg.get("severity", CRITICAL),
                        "success": True,
                        "element_count": 0,
                        "unexpected_count": 0,
                    },
                )
                entry["success"] = entry["success"] and bool(r["success"])
                entry["element_count"] += r["result"].get("element_count", 0) or 0
                entry["unexpected_count"] += r["result"].get("unexpected_count", 0) or 0
        results = list(merged.values())
        return {
            "entity": self.entity,
            # Warnings (a repeated key) do not fail a delivery; critical expectations do.
            "success": all(r["success"] for r in results if r["severity"] != WARNING),
            "warnings": sum(1 for r in results if not r["success"] and r["severity"] == WARNING),
            "rows_landed": self.rows_landed,
            "rows_validated": self.rows_validated,
            "rows_duplicate_key": rows_duplicate_key,
            # name -> passed, for asset checks; the counts are in `results`.
            "expectations": {r["name"]: r["success"] for r in results},
            "results": results,
        }

    def write(self, path: Path, rows_duplicate_key: int) -> dict[str, Any]:
        """Store the summary and the full GE results; return the summary."""
        summary = self.summary(rows_duplicate_key)
        path.parent.mkdir(parents=True, exist_ok=True)
        document = {**summary, "great_expectations": self.batches}
        path.write_text(json.dumps(document, indent=1, default=str), encoding="utf-8")
        return summary
