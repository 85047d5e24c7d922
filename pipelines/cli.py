"""The `clinicops` command: every stage on its own, and all of them in one `run`."""

from __future__ import annotations

import os
import sys
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from pipelines.build import PROJECT_ROOT, Engine
from pipelines.lake import Home

app = typer.Typer(
    help="clinicops: trusted weekly numbers from a practice's exports.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
# soft_wrap: long paths in messages stay on one line for logs and scripts that grep them.
console = Console(stderr=True, soft_wrap=True)

SAMPLE_DIR = PROJECT_ROOT / "data" / "sample"
DEFAULT_INBOXES = [SAMPLE_DIR / "inbox", SAMPLE_DIR / "corrections"]
DEFAULT_HOME = PROJECT_ROOT / "data" / "home"

HomeOption = Annotated[
    Path,
    typer.Option(
        "--home", help="Folder holding the lake, warehouse and serving file of one practice."
    ),
]
InboxOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--inbox",
        help="Inbox folder (inbox/<source>/<file>); repeat to land several in order. "
        "Default: the bundled sample and its corrections delivery.",
    ),
]
ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", help="Practice configuration file (see clinicops.example.yaml)."),
]
AsOfOption = Annotated[
    str | None,
    typer.Option("--as-of", help="YYYY-MM-DD; default: the billing system's last posting day."),
]
EngineOption = Annotated[
    Engine,
    typer.Option("--engine", help="dbt target that builds the marts (docs/spark.md)."),
]


@app.callback()
def _private_files() -> None:
    """Everything the commands write (lake, warehouse, serving file, Dagster's storage,
    reports, logs) is created owner-only; `os.execv` passes the mask on to the dashboard."""
    from pipelines.lake import PRIVATE_UMASK

    os.umask(PRIVATE_UMASK)


def _home(path: Path) -> Home:
    """The practice home, created owner-only or closed if others could enter it."""
    from pipelines.lake import secure_home

    home = Home(path.resolve())
    warning = secure_home(home)
    if warning:
        console.print(f"[yellow]warning:[/yellow] {warning}")
    return home


def _progress(message: str) -> None:
    console.print(f"[dim]·[/dim] {message}")


def _as_of(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"--as-of {value!r} is not a date (YYYY-MM-DD)") from None


def _config(path: Path | None):
    from pipelines.config import ConfigError, load_config

    try:
        return load_config(path)
    except ConfigError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None


@app.command()
def sample(
    out: Annotated[Path, typer.Option(help="Inbox folder to write.")],
    providers: Annotated[int, typer.Option(min=1)] = 12,
    weeks: Annotated[int, typer.Option(min=1)] = 104,
    seed: int = 7,
    corrections: Annotated[
        Path | None,
        typer.Option(
            help="Also write a second delivery here that corrects rows and carries broken ones."
        ),
    ] = None,
) -> None:
    """Generate a deterministic sample practice in the inbox layout of CONTRACTS.md."""
    from pipelines.sample import generate_corrections, generate_practice

    counts = generate_practice(out, providers=providers, weeks=weeks, seed=seed, progress=_progress)
    for entity, rows in counts.items():
        console.print(f"{entity:>15}: {rows:>10,} rows")
    if corrections:
        fixed = generate_corrections(out, corrections, seed=seed)
        console.print(f"corrections: {sum(fixed.values()):,} rows in {corrections}")


@app.command()
def land(
    home: HomeOption = DEFAULT_HOME,
    inbox: InboxOption = None,
    config: ConfigOption = None,
) -> None:
    """Land every file of the inbox folders into the lake (good rows, rejects, ledger)."""
    from pipelines.lake import ensure_lake
    from pipelines.landing import land_inbox

    practice_home = _home(home)
    _require_pseudonym_key(practice_home)
    ensure_lake(practice_home)
    cfg = _config(config)
    failed = 0
    for folder in inbox or DEFAULT_INBOXES:
        report = land_inbox(folder, practice_home, cfg, progress=_progress)
        for f in report.files:
            line = (
                f"{f.status:>9} {f.path.name}: received {f.rows_received:,}, "
                f"loaded {f.rows_loaded:,}, rejected {f.rows_rejected:,}"
            )
            console.print(line + (f" — {f.error}" if f.error else ""))
        failed += sum(f.status == "failed" for f in report.files)
    if failed:
        console.print(f"[yellow]{failed} file(s) could not be read; see the messages above.")


@app.command()
def build(
    home: HomeOption = DEFAULT_HOME,
    config: ConfigOption = None,
    as_of: AsOfOption = None,
    engine: EngineOption = Engine.duckdb,
) -> None:
    """Build every model and test of the dbt project into the home's warehouse."""
    from pipelines.build import BuildError, run_build
    from pipelines.warehouse_lock import WarehouseBusy

    try:
        run_build(_home(home), _config(config), _as_of(as_of), echo=console.print, engine=engine)
    except (BuildError, WarehouseBusy) as exc:
        console.print(f"[red]{exc}")
        raise typer.Exit(1) from None


@app.command()
def publish(home: HomeOption = DEFAULT_HOME, engine: EngineOption = Engine.duckdb) -> None:
    """Copy the marts into <home>/serving.duckdb, atomically."""
    from pipelines.publish import publish as publish_marts

    result = publish_marts(_home(home), engine)
    console.print(
        f"published {result.path} (as of {result.as_of_date}, "
        f"{result.tables.get('kpi_values', 0):,} KPI rows)"
    )


@app.command()
def run(
    home: HomeOption = DEFAULT_HOME,
    inbox: InboxOption = None,
    config: ConfigOption = None,
    as_of: AsOfOption = None,
    engine: EngineOption = Engine.duckdb,
) -> None:
    """Land, build and publish through Dagster: the weekly job, run once now."""
    from dagster import DagsterInstance, materialize

    from pipelines.build import ensure_static_manifest

    practice_home = _home(home)
    _as_of(as_of)  # fail fast on a malformed date
    _config(config)
    _require_pseudonym_key(practice_home)
    folders = [p.resolve() for p in (inbox or DEFAULT_INBOXES)]
    missing = [str(p) for p in folders if not p.is_dir()]
    if missing:
        console.print(f"[red]error:[/red] inbox folder not found: {', '.join(missing)}")
        raise typer.Exit(2)
    _progress("parsing the dbt project")
    ensure_static_manifest()
    _use_dagster_home(practice_home.dagster_home)

    from pipelines.definitions import ASSETS, resources
    from pipelines.defs.resources import ClinicopsResource

    clinicops = ClinicopsResource(
        home=str(practice_home.root),
        inbox=os.pathsep.join(str(p) for p in folders),
        config_path=str(config.resolve()) if config else "",
        as_of=as_of or "",
        engine=str(engine),
    )
    _progress(f"running the pipeline for {practice_home.root}")
    result = materialize(
        ASSETS,
        resources=resources(clinicops),
        instance=DagsterInstance.get(),
        run_config={"loggers": {"console": {"config": {"log_level": "INFO"}}}},
        raise_on_error=False,
    )
    if not result.success:
        console.print("[red]the run failed; nothing new was published (see the log above)")
        raise typer.Exit(1)
    console.print(f"[green]done:[/green] serving file {practice_home.serving}")
    console.print(f"open the asset graph: clinicops ui --home {practice_home.root}")


class Grain(StrEnum):
    week = "week"
    month = "month"


class Scope(StrEnum):
    practice = "practice"
    location = "location"
    provider = "provider"


class Format(StrEnum):
    csv = "csv"
    json = "json"


@app.command()
def kpis(
    home: HomeOption = DEFAULT_HOME,
    grain: Grain = Grain.week,
    scope: Scope = Scope.practice,
    kpi: Annotated[str | None, typer.Option(help="Only this KPI.")] = None,
    fmt: Annotated[Format, typer.Option("--format")] = Format.csv,
) -> None:
    """Print KPI rows from the serving file (marts.kpi_values)."""
    import duckdb

    serving = Home(home).serving
    if not serving.exists():
        console.print(f"[red]error:[/red] {serving} does not exist; run `clinicops run` first")
        raise typer.Exit(2)
    with duckdb.connect(str(serving), read_only=True) as con:
        frame = con.sql(
            "select * from marts.kpi_values where period_grain = ? and scope = ? "
            "and (? is null or kpi = ?) order by period_start, scope_id, kpi",
            params=[grain.value, scope.value, kpi, kpi],
        ).pl()
    if fmt is Format.json:
        sys.stdout.write(frame.write_json())
        sys.stdout.write("\n")
    else:
        sys.stdout.write(frame.write_csv())


@app.command()
def ui(
    home: HomeOption = DEFAULT_HOME,
    inbox: InboxOption = None,
    config: ConfigOption = None,
    port: int = 3000,
) -> None:
    """Open Dagster's UI (asset graph, runs, checks) for a practice home."""
    from pipelines.build import ensure_static_manifest

    practice_home = Home(home.resolve())
    ensure_static_manifest()
    _use_dagster_home(practice_home.dagster_home)
    os.environ["CLINICOPS_HOME"] = str(practice_home.root)
    os.environ["CLINICOPS_INBOX"] = os.pathsep.join(
        str(p.resolve()) for p in (inbox or DEFAULT_INBOXES)
    )
    os.environ["CLINICOPS_CONFIG"] = str(config.resolve()) if config else ""
    dagster = Path(sys.executable).with_name("dagster")
    os.execv(
        str(dagster),
        [
            str(dagster),
            "dev",
            "-m",
            "pipelines.definitions",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
    )


def _require_pseudonym_key(home: Home) -> None:
    """Landing without the practice's key stops here, with the one-line fix."""
    from pipelines.privacy import PseudonymKeyError, resolve_key

    try:
        resolve_key(home)
    except PseudonymKeyError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None


def _use_dagster_home(path: Path) -> None:
    """A per-practice DAGSTER_HOME with telemetry off (no traffic leaves the machine)."""
    path.mkdir(parents=True, exist_ok=True)
    settings = path / "dagster.yaml"
    if not settings.exists():
        settings.write_text("telemetry:\n  enabled: false\n", encoding="utf-8")
    os.environ["DAGSTER_HOME"] = str(path)


# Serving commands live in their own module; registered here so `clinicops` lists them.
from pipelines.cli_dashboard import audit, dashboard, demo, users  # noqa: E402

app.command()(dashboard)
app.command()(demo)
app.add_typer(users, name="users")
app.add_typer(audit, name="audit")

from pipelines.cli_reports import register as register_reports  # noqa: E402

register_reports(app)

from pipelines.cli_privacy import privacy_scan  # noqa: E402

app.command("privacy-scan")(privacy_scan)
