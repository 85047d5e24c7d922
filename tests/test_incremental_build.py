"""A build after a delivery publishes exactly what a full rebuild of the same lake does.

Staging is incremental on DuckDB (dbt_project/macros/newest_version.sql): a build ranks
only the deliveries newer than the ones already staged, and a snapshot delivery turns
into a rebuild of its model. These tests build once, deliver more, build again, and
compare with `dbt build --full-refresh` over the same lake.
"""

from __future__ import annotations

import math
import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest

from pipelines.core.config import Config
from pipelines.core.home import Home
from pipelines.land import land_inbox
from pipelines.model.build import _run_dbt, dbt_build_args, dbt_env, home_target_dir
from tests.conftest import SAMPLE_CORRECTIONS, SAMPLE_INBOX, clinicops_command
from tests.landing.conftest import TEST_KEY, deliver, row

pytestmark = [pytest.mark.e2e, pytest.mark.extended]

KPI_KEY = ["period_grain", "period_start", "scope", "scope_id", "kpi"]
STAGING = [
    "stg_billing__charges",
    "stg_billing__claims",
    "stg_billing__payers",
    "stg_billing__transactions",
    "stg_finance__budget",
    "stg_finance__gl_expenses",
    "stg_hr__staff",
    "stg_hr__timesheets",
    "stg_reference__locations",
    "stg_scheduling__appointments",
    "stg_scheduling__provider_slots",
]


def _clinicops(*args: str | Path) -> None:
    proc = subprocess.run(
        [clinicops_command(), *map(str, args)], capture_output=True, text=True, timeout=1800
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]


def _full_refresh(home: Home, *select: str) -> None:
    args = dbt_build_args(Config(), None) + ["--full-refresh"]
    if select:
        args = ["run", "--select", *select, "--full-refresh"]
    _run_dbt(args, env=dbt_env(home), target_dir=home_target_dir(home))


def _ran_incrementally(home: Home, model: str) -> bool:
    """dbt-duckdb's incremental path deletes the batch's keys from the existing table."""
    (compiled,) = (home_target_dir(home) / "run").rglob(f"{model}.sql")
    return "delete from" in compiled.read_text(encoding="utf-8").lower()


def _kpi_values(warehouse: Path) -> dict[tuple, tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        frame = con.sql("select * from marts.kpi_values").pl()
    values = [c for c in frame.columns if c not in KPI_KEY]
    keyed = {tuple(r[c] for c in KPI_KEY): tuple(r[c] for c in values) for r in frame.to_dicts()}
    assert len(keyed) == frame.height, "kpi_values has a repeated key"
    return keyed


def _same(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=0.0) or a == b
    return a == b


def _staging_differences(built: Path, rebuilt: Path) -> dict[str, int]:
    """Rows of each staging table found in one build and not the other (multisets)."""
    with duckdb.connect(str(rebuilt), read_only=True) as con:
        con.execute(f"attach '{built}' as built (read_only)")
        return {
            model: con.sql(
                f"select count(*) from ((select * from built.staging.{model}"
                f" except all select * from staging.{model})"
                f" union all (select * from staging.{model}"
                f" except all select * from built.staging.{model}))"
            ).fetchall()[0][0]
            for model in STAGING
        }


def test_build_after_the_corrections_delivery_equals_a_full_rebuild(tmp_path):
    home = Home(tmp_path / "home")
    _clinicops("land", "--home", home.root, "--inbox", SAMPLE_INBOX)
    _clinicops("build", "--home", home.root)
    _clinicops("land", "--home", home.root, "--inbox", SAMPLE_CORRECTIONS)
    _clinicops("build", "--home", home.root)
    assert _ran_incrementally(home, "stg_billing__transactions")
    after_increment = tmp_path / "incremental.duckdb"
    shutil.copyfile(home.warehouse, after_increment)

    _full_refresh(home)
    assert not _ran_incrementally(home, "stg_billing__transactions")

    assert _staging_differences(after_increment, home.warehouse) == dict.fromkeys(STAGING, 0)
    incremental, full = _kpi_values(after_increment), _kpi_values(home.warehouse)
    assert incremental.keys() == full.keys()
    differing = [
        key
        for key, values in full.items()
        if not all(_same(a, b) for a, b in zip(values, incremental[key], strict=True))
    ]
    assert differing == []


def test_a_snapshot_delivery_deletes_missing_keys_in_an_incremental_build(tmp_path):
    """Snapshots take the other path: staged rows older than the snapshot are dropped."""
    config = Config.model_validate({"sources": {"scheduling": {"snapshot": ["provider_slots"]}}})
    home = Home(tmp_path / "home")
    first, second = tmp_path / "scan1", tmp_path / "scan2"
    slots = ["2026-01-05 08:00", "2026-01-05 08:20", "2026-01-05 08:40"]
    deliver(first, "provider_slots", [row("provider_slots", slot_start=s) for s in slots])
    deliver(first, "claims", [row("claims"), row("claims", claim_id="CL2")])
    land_inbox(first, home, config, pseudonym_key=TEST_KEY)
    _run_dbt(["run", "--select", "staging"], env=dbt_env(home), target_dir=home_target_dir(home))

    deliver(second, "provider_slots", [row("provider_slots", slot_start=s) for s in slots[1:]],
            "provider_slots_02.csv")  # fmt: skip
    deliver(second, "claims", [row("claims", submitted_date="2026-01-09")], "claims_02.csv")
    land_inbox(second, home, config, pseudonym_key=TEST_KEY)
    _run_dbt(["run", "--select", "staging"], env=dbt_env(home), target_dir=home_target_dir(home))
    assert _ran_incrementally(home, "stg_scheduling__provider_slots")
    built = tmp_path / "incremental.duckdb"
    shutil.copyfile(home.warehouse, built)

    with duckdb.connect(str(built), read_only=True) as con:
        staged_slots = con.sql(
            "select strftime(slot_start, '%H:%M') from staging.stg_scheduling__provider_slots"
            " order by 1"
        ).fetchall()
        staged_claims = con.sql(
            "select claim_id, cast(submitted_date as varchar) from staging.stg_billing__claims"
            " order by 1"
        ).fetchall()
    assert staged_slots == [("08:20",), ("08:40",)]  # 08:00 missed the newest snapshot
    assert staged_claims == [("CL1", "2026-01-09"), ("CL2", "2026-01-07")]

    _full_refresh(home, "staging")
    assert _staging_differences(built, home.warehouse) == dict.fromkeys(STAGING, 0)
