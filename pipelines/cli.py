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
VerboseOption = Annotated[
    bool,
    typer.Option("--verbose", "-v", help="Show Dagster's and dbt's own lines as they come."),
]
EngineOption = Annotated[
    Engine,
    typer.Option("--engine", help="dbt target that builds the marts (docs/spark.md)."),
]


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
    from pipelines.privacy import ensure_demo_key

    practice_home = Home(home)
    ensure_lake(practice_home)
    ensure_demo_key(practice_home, log=_progress)
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
        run_build(Home(home), _config(config), _as_of(as_of), echo=console.print, engine=engine)
    except (BuildError, WarehouseBusy) as exc:
        console.print(f"[red]{exc}")
        raise typer.Exit(1) from None


@app.command()
def publish(home: HomeOption = DEFAULT_HOME, engine: EngineOption = Engine.duckdb) -> None:
    """Copy the marts into <home>/serving.duckdb, atomically."""
    from pipelines.publish import publish as publish_marts

    result = publish_marts(Home(home), engine)
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
    verbose: VerboseOption = False,
) -> None:
    """Land, build and publish through Dagster: the weekly job, run once now."""
    from dagster import DagsterInstance, Definitions, define_asset_job

    from pipelines.build import ensure_static_manifest
    from pipelines.cli_dashboard import hint
    from pipelines.cli_progress import print_tail, run_display

    practice_home = Home(home.resolve())
    _as_of(as_of)  # fail fast on a malformed date
    _config(config)
    folders = [p.resolve() for p in (inbox or DEFAULT_INBOXES)]
    missing = [str(p) for p in folders if not p.is_dir()]
    if missing:
        console.print(f"[red]error:[/red] inbox folder not found: {', '.join(missing)}")
        raise typer.Exit(2)
    # A first parse takes most of a minute: a spinner says the run is alive meanwhile.
    with console.status("parsing the dbt project (a first parse takes about a minute)"):
        ensure_static_manifest()
    _progress("parsed the dbt project")
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
    log_path = practice_home.root / "logs" / "run.log"
    with run_display(log_path, console, verbose) as (loggers, run_config, display):
        # What dagster.materialize does, with our loggers on the run.
        defs = Definitions(
            assets=ASSETS,
            resources=resources(clinicops),
            jobs=[define_asset_job("__ephemeral_asset_job__")],
            loggers=loggers,
        )
        result = defs.resolve_job_def("__ephemeral_asset_job__").execute_in_process(
            run_config=run_config, instance=DagsterInstance.get(), raise_on_error=False
        )
        if display:
            display.ok = result.success
    if not result.success:
        print_tail(display, console, log_path)
        console.print(
            "[red]the run failed; nothing new was published "
            + ("(see the log above)" if verbose else f"(whole log: {log_path})")
        )
        raise typer.Exit(1)
    console.print(f"[green]done:[/green] serving file {practice_home.serving}")
    if not verbose:
        console.print(f"[dim]Dagster's and dbt's lines: {log_path} (or run with --verbose)[/dim]")
    console.print(
        f"open the asset graph: {hint('clinicops ui')} --home {practice_home.root}; "
        f"the dashboards: {hint('clinicops dashboard')} --home {practice_home.root}"
    )


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
    """Open Dagster's UI (asset graph, runs, checks) for a practice home. Its schedule and
    inbox sensor stay off here unless switched on in the UI; `clinicops serve` runs them."""
    from pipelines.cli_dashboard import hint, require_free_port

    require_free_port(port, "Dagster UI")
    _dagster_env(home, inbox, config, automation=False)
    console.print(
        f"[green]Dagster UI:[/green] http://127.0.0.1:{port} (Ctrl+C stops it). The weekly "
        f"schedule and the inbox sensor are off here; `{hint('clinicops serve')} --home "
        f"{home.resolve()}` runs them."
    )
    _exec_dagster("dagster", ["dev", "--host", "127.0.0.1", "--port", str(port)])


@app.command()
def serve(
    home: HomeOption = DEFAULT_HOME,
    inbox: InboxOption = None,
    config: ConfigOption = None,
    with_ui: Annotated[
        bool, typer.Option("--ui", help="Also serve Dagster's UI on 127.0.0.1:--port.")
    ] = False,
    port: int = 3000,
) -> None:
    """Run the weekly schedule (Monday 05:00 practice time) and the inbox sensor until
    Ctrl+C: Dagster's daemon with both switched on."""
    from pipelines.cli_dashboard import require_free_port

    if with_ui:
        require_free_port(port, "Dagster UI")
    _dagster_env(home, inbox, config, automation=True)
    console.print(
        "[green]scheduling:[/green] the weekly run (Monday 05:00 practice time) and the inbox "
        "sensor (every minute) are on"
        + (f"; Dagster UI on http://127.0.0.1:{port}" if with_ui else "")
        + " (Ctrl+C stops them)."
    )
    if with_ui:  # `dagster dev` runs the daemon beside the webserver
        _exec_dagster("dagster", ["dev", "--host", "127.0.0.1", "--port", str(port)])
    _exec_dagster("dagster-daemon", ["run"])


def _dagster_env(home: Path, inbox, config, automation: bool) -> None:
    """What pipelines/definitions.py reads when Dagster loads it for this practice."""
    from pipelines.build import ensure_static_manifest
    from pipelines.defs.automation import AUTOMATION_ENV

    practice_home = Home(home.resolve())
    ensure_static_manifest()
    _use_dagster_home(practice_home.dagster_home)
    os.environ["CLINICOPS_HOME"] = str(practice_home.root)
    os.environ["CLINICOPS_INBOX"] = os.pathsep.join(
        str(p.resolve()) for p in (inbox or DEFAULT_INBOXES)
    )
    os.environ["CLINICOPS_CONFIG"] = str(config.resolve()) if config else ""
    os.environ[AUTOMATION_ENV] = "on" if automation else ""


def _exec_dagster(program: str, args: list[str]) -> None:
    sys.stderr.flush()
    executable = Path(sys.executable).with_name(program)
    os.execv(str(executable), [str(executable), *args, "-m", "pipelines.definitions"])


def _use_dagster_home(path: Path) -> None:
    """A per-practice DAGSTER_HOME with telemetry off (no traffic leaves the machine)."""
    path.mkdir(parents=True, exist_ok=True)
    settings = path / "dagster.yaml"
    if not settings.exists():
        settings.write_text("telemetry:\n  enabled: false\n", encoding="utf-8")
    os.environ["DAGSTER_HOME"] = str(path)


# Serving commands live in their own module; registered here so `clinicops` lists them.
from pipelines.cli_dashboard import dashboard, demo, users  # noqa: E402

app.command()(dashboard)
app.command()(demo)
app.add_typer(users, name="users")

from pipelines.cli_reports import register as register_reports  # noqa: E402

register_reports(app)

from pipelines.cli_privacy import privacy_scan  # noqa: E402

app.command("privacy-scan")(privacy_scan)
