"""Running the dbt project for one practice home: its environment, arguments and manifest.

Dagster (pipelines/orchestrate/defs/dbt.py) and the CLI both build through these functions, so a
build from the command line and a build from the asset graph are the same build.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from datetime import date
from pathlib import Path

from pipelines.core import faults
from pipelines.core.config import Config
from pipelines.core.engine import Engine, spark_dir
from pipelines.core.home import Home
from pipelines.core.home_lock import home_lock
from pipelines.core.warehouse_lock import release_stale_lock
from pipelines.model.dbt_child import parent_env

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
# The manifest Dagster loads its asset graph from. It does not depend on the practice
# (paths are resolved again by the build of each home, in <home>/dbt/target).
STATIC_TARGET_DIR = DBT_PROJECT_DIR / "target"
# The dbt installed beside this Python, whether or not the virtualenv is on PATH, through
# the wrapper that makes it die with the process that starts it (pipelines/model/dbt_child.py).
DBT_EXECUTABLE = Path(sys.executable).with_name("clinicops-dbt")


class BuildError(RuntimeError):
    """dbt failed: a model error or a failing data test. Nothing is published."""


def dbt_env(home: Home) -> dict[str, str]:
    """The environment dbt's profile and sources read (dbt_project/profiles.yml)."""
    return {
        "CLINICOPS_WAREHOUSE": str(home.warehouse),
        "CLINICOPS_LAKE": str(home.lake),
        "CLINICOPS_SPARK_DIR": str(spark_dir(home)),
        # The profile binds Spark's driver to 127.0.0.1; this keeps its other services
        # there too instead of the first address the host name resolves to.
        "SPARK_LOCAL_IP": "127.0.0.1",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        "DBT_PROFILES_DIR": str(DBT_PROJECT_DIR),
    }


def dbt_vars(config: Config, as_of: date | None) -> dict[str, object]:
    """Run-time variables: the as-of date (empty = KPI_SPEC.md default), target overrides
    and the fiscal year's first month (the quarter and year grains)."""
    overrides = {kpi: band.model_dump(exclude_none=True) for kpi, band in config.targets.items()}
    return {
        "as_of": as_of.isoformat() if as_of else "",
        "target_overrides": overrides,
        "fiscal_year_start_month": config.practice.fiscal_year_start_month,
    }


def dbt_build_args(config: Config, as_of: date | None, engine: Engine = Engine.duckdb) -> list[str]:
    """`dbt build`, so data tests gate the publish and show up as Dagster asset checks.

    dbt's unit tests are left out: they check the formulas on hand-made rows, which do
    not change with a practice's data, so running them in every weekly build only adds
    their cost (a sixth of an incremental build, docs/benchmarks.md; minutes of planning
    each on Spark, docs/spark.md). CI runs them with `run_unit_tests` instead
    (tests/test_dbt_unit_tests.py). The data tests still gate the publish.
    """
    vars_json = json.dumps(dbt_vars(config, as_of), sort_keys=True)
    return [
        "build",
        "--vars",
        vars_json,
        "--target",
        str(engine),
        "--exclude-resource-type",
        "unit_test",
    ]


def run_unit_tests(home: Home) -> None:
    """Run dbt's unit tests in a built home (its warehouse holds every model's inputs);
    BuildError names the failing ones."""
    _run_dbt(
        ["test", "--select", "test_type:unit", "--target", str(Engine.duckdb)],
        env=dbt_env(home),
        target_dir=home_target_dir(home),
    )


def home_target_dir(home: Home) -> Path:
    return home.root / "dbt" / "target"


def parse_static_manifest() -> Path:
    """Write the manifest Dagster's asset graph is built from; about 3 s."""
    manifest = STATIC_TARGET_DIR / "manifest.json"
    _run_dbt(
        ["parse"], env={"DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}, target_dir=STATIC_TARGET_DIR
    )
    return manifest


def ensure_static_manifest() -> Path:
    """Parse the project when no manifest exists yet or a model changed since the last parse."""
    manifest = STATIC_TARGET_DIR / "manifest.json"
    if not manifest.exists() or _project_newer_than(manifest.stat().st_mtime):
        return parse_static_manifest()
    return manifest


def run_build(
    home: Home,
    config: Config,
    as_of: date | None,
    echo: Callable[[str], None] | None = None,
    engine: Engine = Engine.duckdb,
) -> None:
    """Build every model, seed and test of the project into the home's warehouse.

    Holds the home's writer lock (pipelines/core/home_lock.py): a landing or another build
    of the same home waits or stops with HomeBusy instead of meeting DuckDB's lock.
    """
    with home_lock(home.root):
        stale = release_stale_lock(home.warehouse)
        if stale and echo:
            echo(f"ended dbt PID {stale}, left holding the warehouse by a killed run")
        _run_dbt(
            dbt_build_args(config, as_of, engine),
            env=dbt_env(home),
            target_dir=home_target_dir(home),
            echo=echo,
        )


def _project_newer_than(mtime: float) -> bool:
    for folder in ("models", "macros", "seeds", "tests"):
        for path in (DBT_PROJECT_DIR / folder).rglob("*"):
            if path.is_file() and path.stat().st_mtime > mtime:
                return True
    return (DBT_PROJECT_DIR / "dbt_project.yml").stat().st_mtime > mtime


def _run_dbt(
    args: list[str],
    env: dict[str, str],
    target_dir: Path,
    echo: Callable[[str], None] | None = None,
) -> None:
    command = [
        str(DBT_EXECUTABLE),
        *args,
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
        "--target-path",
        str(target_dir),
        "--log-path",
        str(target_dir.parent / "logs"),
    ]
    proc = subprocess.Popen(
        command,
        env={**os.environ, **env, **parent_env()},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=DBT_PROJECT_DIR,
    )
    tail: list[str] = []
    assert proc.stdout is not None
    for line in proc.stdout:
        line = line.rstrip()
        tail = [*tail[-40:], line]
        faults.point("build.dbt")
        if echo:
            echo(line)
    if proc.wait() != 0:
        raise BuildError(f"dbt {args[0]} failed:\n" + "\n".join(tail))
