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
from rich.markup import escape

from pipelines.core.engine import Engine
from pipelines.core.home import Home
from pipelines.model.build import PROJECT_ROOT

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


@app.callback()
def main(
    debug: Annotated[
        bool, typer.Option("--debug", help="On a failure, show the traceback too.")
    ] = False,
    wait: Annotated[
        float | None,
        typer.Option(
            "--wait",
            min=0,
            help="When another clinicops process is writing the same home, wait up to "
            "this many seconds for it instead of stopping at once "
            "(default: $CLINICOPS_LOCK_WAIT, else 0).",
        ),
    ] = None,
) -> None:
    """clinicops: trusted weekly numbers from a practice's exports."""
    from pipelines.core.home_lock import WAIT_ENV

    _private_files()

    if wait is not None:
        os.environ[WAIT_ENV] = str(wait)
    if not debug:
        sys.excepthook = _one_sentence


def _one_sentence(kind, exc, tb) -> None:
    """A failure the operator can fix ends in its one sentence, never a traceback.

    Anything else is a bug and keeps its traceback. `clinicops --debug` keeps it always.
    """
    from pipelines.core.failures import OperatorError, operator_error
    from pipelines.core.warehouse_lock import WarehouseBusy

    plain = exc if isinstance(exc, OperatorError | WarehouseBusy) else None
    if plain is None:  # an OSError, or a library's error that says "no space left"
        where = Path(getattr(exc, "filename", None) or ".").parent
        plain = operator_error(exc, "clinicops", where)
    if plain is None:
        sys.__excepthook__(kind, exc, tb)
        return
    console.print(f"[red]error:[/red] {escape(str(plain))} (clinicops --debug shows the details)")


def _private_files() -> None:
    """Everything the commands write (lake, warehouse, serving file, Dagster's storage,
    reports, logs) is created owner-only; `os.execv` passes the mask on to the dashboard."""
    from pipelines.core.home import PRIVATE_UMASK

    os.umask(PRIVATE_UMASK)


def _home(path: Path) -> Home:
    """The practice home, created owner-only or closed if others could enter it."""
    from pipelines.core.home import secure_home

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
    from pipelines.core.config import ConfigError, load_config

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
    standard_out: Annotated[
        Path | None,
        typer.Option(
            help="Also write the same practice here in standard formats: the payers' "
            "remittances as X12 835 files (per payer and week) and scheduling as FHIR R4 "
            "NDJSON; the rest as CSV."
        ),
    ] = None,
    x12: Annotated[bool, typer.Option(help="With --standard-out: remittances as 835.")] = True,
    fhir: Annotated[
        bool, typer.Option(help="With --standard-out: locations, slots, appointments as FHIR.")
    ] = True,
) -> None:
    """Generate a deterministic sample practice in the inbox layout of CONTRACTS.md."""
    from pipelines.sample import generate_corrections, generate_practice

    counts = generate_practice(out, providers=providers, weeks=weeks, seed=seed, progress=_progress)
    for entity, rows in counts.items():
        console.print(f"{entity:>15}: {rows:>10,} rows")
    if standard_out:
        from pipelines.sample.standard import write_standard_inbox

        files = write_standard_inbox(out, standard_out, x12=x12, fhir=fhir)
        console.print(
            f"standard formats in {standard_out}: {files['835']} 835 file(s), "
            f"{files['ndjson']} FHIR NDJSON file(s), {files['csv']} CSV file(s)"
        )
    if corrections:
        fixed = generate_corrections(out, corrections, seed=seed)
        console.print(f"corrections: {sum(fixed.values()):,} rows in {corrections}")


@app.command()
def land(
    home: HomeOption = DEFAULT_HOME,
    inbox: InboxOption = None,
    config: ConfigOption = None,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help="Show per file and column what would load, be rejected or filtered; "
            "write nothing.",
        ),
    ] = False,
) -> None:
    """Land every file of the inbox folders into the lake (good rows, rejects, ledger).

    Ends with a summary table; exit code 3 when any file or inbox entry was refused.
    """
    from pipelines.cli.landing import (
        EXIT_REFUSED,
        print_dry_run,
        refused_count,
        result_rows,
        summary_table,
    )

    cfg = _config(config)
    if dry_run:
        from pipelines.land.preview import preview

        for folder in inbox or DEFAULT_INBOXES:
            print_dry_run(*preview(folder, cfg))
        return

    from pipelines.core.home import ensure_lake
    from pipelines.core.home_lock import home_lock
    from pipelines.land import land_inbox

    practice_home = _home(home)
    _require_pseudonym_key(practice_home)
    with home_lock(practice_home.root):  # every inbox in one hold: one writer per home
        ensure_lake(practice_home)
        reports = [
            land_inbox(folder, practice_home, cfg, progress=_progress)
            for folder in inbox or DEFAULT_INBOXES
        ]
    rows = result_rows(reports)
    not_landed = [n for r in reports for n in r.not_landed]
    console.print(summary_table(rows, not_landed))
    refused = refused_count(rows, not_landed)
    if refused:
        console.print(f"[red]{refused} file(s) or entries were refused; see the table above.")
        raise typer.Exit(EXIT_REFUSED)


@app.command()
def build(
    home: HomeOption = DEFAULT_HOME,
    config: ConfigOption = None,
    as_of: AsOfOption = None,
    engine: EngineOption = Engine.duckdb,
) -> None:
    """Build every model and test of the dbt project into the home's warehouse."""
    from pipelines.core.warehouse_lock import WarehouseBusy
    from pipelines.model.build import BuildError, run_build

    try:
        run_build(_home(home), _config(config), _as_of(as_of), echo=console.print, engine=engine)
    except (BuildError, WarehouseBusy) as exc:
        console.print(f"[red]{exc}")
        raise typer.Exit(1) from None


@app.command()
def publish(home: HomeOption = DEFAULT_HOME, engine: EngineOption = Engine.duckdb) -> None:
    """Copy the marts into <home>/serving.duckdb, atomically."""
    from pipelines.publish.serving import publish as publish_marts

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
    verbose: VerboseOption = False,
) -> None:
    """Land, build and publish through Dagster: the weekly job, run once now."""
    from pipelines.core.home_lock import home_lock

    _as_of(as_of)  # fail fast on a malformed date, before the home is made
    _config(config)
    practice_home = _home(home)
    _require_pseudonym_key(practice_home)
    folders = [p.resolve() for p in (inbox or DEFAULT_INBOXES)]
    missing = [str(p) for p in folders if not p.is_dir()]
    if missing:
        console.print(f"[red]error:[/red] inbox folder not found: {', '.join(missing)}")
        raise typer.Exit(2)
    # One writer per home for the whole run: a second run stops here with a message
    # naming this one, before it touches Dagster's storage (two runs initialising one
    # home's Dagster database at once left two alembic heads) or lands anything.
    with home_lock(practice_home.root):
        _run_pipeline(practice_home, folders, config, as_of, engine, verbose)


def _run_pipeline(
    practice_home: Home,
    folders: list[Path],
    config: Path | None,
    as_of: str | None,
    engine: Engine,
    verbose: bool,
) -> None:
    from dagster import DagsterInstance, Definitions, define_asset_job

    from pipelines.cli.dashboard import hint
    from pipelines.cli.progress import print_tail, run_display
    from pipelines.model.build import ensure_static_manifest

    # A first parse takes most of a minute: a spinner says the run is alive meanwhile.
    with console.status("parsing the dbt project (a first parse takes about a minute)"):
        ensure_static_manifest()
    _progress("parsed the dbt project")
    _use_dagster_home(practice_home.dagster_home)

    from pipelines.orchestrate.definitions import ASSETS, resources
    from pipelines.orchestrate.defs.resources import ClinicopsResource

    clinicops = ClinicopsResource(
        home=str(practice_home.root),
        inbox=os.pathsep.join(str(p) for p in folders),
        config_path=str(config.resolve()) if config else "",
        as_of=as_of or "",
        engine=str(engine),
    )
    _progress(f"running the pipeline for {practice_home.root}")
    before = _committed_ids(practice_home)
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
        cause = _operator_cause(result)
        if cause:
            console.print(f"[red]error:[/red] {escape(cause)}; nothing new was published")
        else:
            console.print(
                "[red]the run failed; nothing new was published "
                + ("(see the log above)" if verbose else f"(whole log: {log_path})")
            )
        raise typer.Exit(1)
    refused = _run_summary(practice_home, before, folders, _config(config))
    console.print(f"[green]done:[/green] serving file {practice_home.serving}")
    if not verbose:
        console.print(f"[dim]Dagster's and dbt's lines: {log_path} (or run with --verbose)[/dim]")
    console.print(
        f"open the asset graph: {hint('clinicops ui')} --home {practice_home.root}; "
        f"the dashboards: {hint('clinicops dashboard')} --home {practice_home.root}"
    )
    if refused:
        from pipelines.cli.landing import EXIT_REFUSED

        console.print(
            f"[red]published, but {refused} file(s) or entries were refused: their rows are "
            "missing from every figure (see the summary above)."
        )
        raise typer.Exit(EXIT_REFUSED)


def _committed_ids(home: Home) -> set[str]:
    from pipelines.land.ledger import committed_ids

    return committed_ids(home) if home.ledger.is_dir() else set()


def _run_summary(home: Home, before: set[str], folders: list[Path], cfg) -> int:
    """The summary table of what this run landed (its ledger entries); refusals counted."""
    import polars as pl

    from pipelines.cli.landing import ledger_rows, refused_count, summary_table
    from pipelines.land.ledger import ledger
    from pipelines.land.read import scan

    entries = ledger(home).filter(~pl.col("delivery_id").is_in(sorted(before)))
    rows = ledger_rows(entries)
    waiting = [n for folder in folders for n in scan(folder, 0).not_landed if n.waiting]
    console.print(summary_table(rows, waiting))
    return refused_count(rows, waiting)


@app.command()
def pull(
    home: HomeOption = DEFAULT_HOME,
    config: ConfigOption = None,
    source: Annotated[
        str | None, typer.Option("--source", help="Only this source (a name under pull.sources).")
    ] = None,
) -> None:
    """Fetch new files and rows from the configured sources into the inbox (docs/sources.md).

    Exit code 1 when any source failed; the others are pulled all the same.
    """
    from pipelines.core.home_lock import home_lock
    from pipelines.pull import PullError, pull_inbox
    from pipelines.pull import pull as pull_sources

    practice_home = _home(home)
    cfg = _config(config)
    if not cfg.pull.sources:
        console.print("[yellow]no pull sources configured[/yellow] (pull.sources in the config)")
        return
    try:
        with home_lock(practice_home.root):  # one writer per home: pull writes the inbox
            results = pull_sources(practice_home, cfg, source, say=_progress)
    except PullError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    for result in results:
        status = "[green]ok[/green]" if result.ok else "[red]failed[/red]"
        console.print(
            f"{status} {result.name} ({result.kind}): {len(result.files)} file(s) fetched"
        )
        for note in result.notes:
            console.print(f"    {note}")
        if result.error:
            console.print(f"    [red]{result.error}[/red]")
    console.print(f"inbox: {pull_inbox(practice_home, cfg)}")
    if any(not r.ok for r in results):
        raise typer.Exit(1)


sources_app = typer.Typer(help="The sources clinicops pulls from (pull.sources in the config).")
app.add_typer(sources_app, name="sources")


@sources_app.command("test")
def sources_test(
    home: HomeOption = DEFAULT_HOME,
    config: ConfigOption = None,
    source: Annotated[str | None, typer.Option("--source", help="Only this source.")] = None,
) -> None:
    """Check each source's connection and permissions; say exactly what is wrong."""
    from pipelines.pull import PullError
    from pipelines.pull import check as check_sources

    cfg = _config(config)
    try:
        report = check_sources(Home(home.resolve()), cfg, source)
    except PullError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    if not report:
        console.print("[yellow]no pull sources configured[/yellow] (pull.sources in the config)")
    for name, outcome in report.items():
        if isinstance(outcome, str):
            console.print(f"[red]FAIL[/red] {name}: {outcome}")
        else:
            console.print(f"[green]ok[/green]   {name}: " + "; ".join(outcome))
    if any(isinstance(o, str) for o in report.values()):
        raise typer.Exit(1)


_OPERATOR_ERRORS = {"DiskFull", "NotPermitted", "HomeBusy", "WarehouseBusy", "OperatorError"}


def _operator_cause(result) -> str | None:
    """The one sentence of a failed step whose cause the operator can fix, if any."""
    for event in result.get_step_failure_events():
        error = event.step_failure_data.error
        while error is not None:
            if error.cls_name in _OPERATOR_ERRORS:
                return error.message.strip().partition(": ")[2] or error.message.strip()
            error = error.cause
    return None


class Grain(StrEnum):
    week = "week"
    month = "month"
    quarter = "quarter"  # of the practice's fiscal year
    year = "year"  # the fiscal year


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
    from pipelines.cli.dashboard import hint, require_free_port

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
    from pipelines.cli.dashboard import require_free_port

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
    """What pipelines/orchestrate/definitions.py reads when Dagster loads it for this practice."""
    from dagster import DagsterInstance

    from pipelines.core.home_lock import home_lock
    from pipelines.model.build import ensure_static_manifest
    from pipelines.orchestrate.defs.automation import AUTOMATION_ENV

    practice_home = Home(home.resolve())
    ensure_static_manifest()
    with home_lock(practice_home.root):  # Dagster's storage is created once, by one process
        _use_dagster_home(practice_home.dagster_home)
        DagsterInstance.get().dispose()
    os.environ["CLINICOPS_HOME"] = str(practice_home.root)
    os.environ["CLINICOPS_INBOX"] = os.pathsep.join(
        str(p.resolve()) for p in (inbox or DEFAULT_INBOXES)
    )
    os.environ["CLINICOPS_CONFIG"] = str(config.resolve()) if config else ""
    os.environ[AUTOMATION_ENV] = "on" if automation else ""


def _exec_dagster(program: str, args: list[str]) -> None:
    sys.stderr.flush()
    executable = Path(sys.executable).with_name(program)
    os.execv(str(executable), [str(executable), *args, "-m", "pipelines.orchestrate.definitions"])


def _require_pseudonym_key(home: Home) -> None:
    """Landing without the practice's key stops here, with the one-line fix."""
    from pipelines.land.pseudonymise import PseudonymKeyError, resolve_key

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
from pipelines.cli.dashboard import audit, dashboard, demo, users  # noqa: E402

app.command()(dashboard)
app.command()(demo)
app.add_typer(users, name="users")
app.add_typer(audit, name="audit")

from pipelines.cli.reports import register as register_reports  # noqa: E402

register_reports(app)

from pipelines.cli.privacy import privacy_scan  # noqa: E402

app.command("privacy-scan")(privacy_scan)

from pipelines.cli.landing import inspect  # noqa: E402

app.command()(inspect)
