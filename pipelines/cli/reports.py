"""`clinicops deck` and `clinicops digest`: the board deck and the weekly digest of a
home's serving file (dashboards/reports/, files and alert state by dashboards/reports/jobs.py).
Registered on the main app by pipelines/cli/main.py.
"""

from __future__ import annotations

import getpass
from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from dashboards.access.principal import Principal, Role, acting_as
from dashboards.reports import jobs as report_jobs
from pipelines.core.config import Config, ConfigError, load_config
from pipelines.core.home import Home

console = Console(stderr=True)

HomeOption = Annotated[
    Path, typer.Option("--home", help="Practice home whose serving.duckdb the report reads.")
]
ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", help="Practice configuration file (see clinicops.example.yaml)."),
]


def _load(path: Path | None) -> Config:
    try:
        return load_config(path)
    except ConfigError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None


def _principal() -> Principal:
    # Shell access to the home is access to all of it (docs/access.md); the name tells the
    # audit log who ran the command.
    return Principal(f"cli:{getpass.getuser()}", Role.ADMIN)


def _serving(home: Path) -> Path:
    serving = Home(home).serving
    if not serving.exists():
        console.print(f"[red]error:[/red] {serving} does not exist; run `clinicops run` first")
        raise typer.Exit(2)
    return serving


def deck(
    home: HomeOption,
    period: Annotated[
        str | None,
        typer.Option(
            help="A month (2026-10), a quarter (2026-Q3) or a fiscal year (FY2026); default "
            "the last complete month."
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(help="Writes OUT.pptx and OUT.pdf; default <home>/reports/board-PERIOD."),
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Build the board deck (PPTX and the same pages as PDF) for a month or a quarter."""
    from dashboards.data.serving import published_as_of
    from dashboards.reports.deck import build_deck
    from dashboards.reports.periods import last_complete_month, parse_period

    serving = _serving(home)
    cfg = _load(config)
    try:
        # A fiscal year starts in the configured month when the config has one (else January).
        fiscal_start = getattr(cfg.practice, "fiscal_year_start_month", 1)
        chosen = (
            parse_period(period, fiscal_start)
            if period
            else last_complete_month(published_as_of(serving))
        )
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--period") from None
    target = out or report_jobs.deck_stem(Home(home), chosen)
    try:
        with acting_as(_principal()):
            result = build_deck(serving, chosen, target, report_jobs.deck_options(cfg))
    except ValueError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    console.print(
        f"wrote {result.pptx} and {result.pdf} ({len(result.slide_titles)} slides, "
        f"{result.seconds:.1f} s)"
    )


def digest(
    home: HomeOption,
    config: ConfigOption = None,
    send: Annotated[
        bool, typer.Option("--send", help="Mail it (SMTP settings from CLINICOPS_SMTP_*).")
    ] = False,
    week: Annotated[
        str | None,
        typer.Option(help="Monday of the week (YYYY-MM-DD); default the last complete week."),
    ] = None,
) -> None:
    """Write the weekly digest (HTML) and, with --send, mail it; alerts fire once."""
    from dashboards.reports.digest import SmtpSettings, require_monday

    try:
        monday = date.fromisoformat(week) if week else None
    except ValueError:
        raise typer.BadParameter(f"{week!r} is not a date", param_hint="--week") from None
    try:
        monday = require_monday(monday) if monday else None
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--week") from None
    _serving(home)
    cfg = _load(config)
    try:
        smtp = SmtpSettings.from_env() if send else None
        with acting_as(_principal()):
            outcome = report_jobs.write_digest(Home(home), cfg, monday, smtp)
    except ValueError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    if smtp:
        console.print(f"sent to {outcome.recipients} recipient(s) via {smtp.host}")
    console.print(f"{outcome.digest.subject}\nwrote {outcome.page}")


def register(app: typer.Typer) -> None:
    app.command()(deck)
    app.command()(digest)
