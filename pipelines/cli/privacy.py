"""`clinicops privacy-scan`: fails when a raw patient id or staff name from the input
files is found in what a home serves or logs (pipelines/audit/privacy_scan.py, docs/privacy.md).
Registered on the main app by pipelines/cli/main.py."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from pipelines.core.config import ConfigError, load_config
from pipelines.core.home import Home

console = Console(stderr=True, soft_wrap=True)


def privacy_scan(
    home: Annotated[
        Path, typer.Option("--home", help="Practice home to scan (everything but its lake).")
    ],
    inbox: Annotated[
        list[Path],
        typer.Option(
            "--inbox",
            help="Inbox folder whose files hold the raw ids and names to look for; repeat "
            "for every delivery folder landed into the home.",
        ),
    ],
    extra: Annotated[
        list[Path] | None,
        typer.Option(
            "--extra",
            help="Another file or folder to scan: downloaded CSV/XLSX, a copied log, the "
            "lake. Repeatable.",
        ),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option("--config", help="Practice configuration (the inbox's formats and mappings)."),
    ] = None,
) -> None:
    """Search the serving database, decks, digests, logs and downloads for raw patient
    ids and staff names. Exit 1 when any is found (the report names where, never what),
    2 when something could not be read."""
    from pipelines.audit.privacy_scan import scan

    missing = [str(p) for p in [home, *inbox, *(extra or [])] if not p.exists()]
    if missing:
        console.print(f"[red]error:[/red] not found: {', '.join(missing)}")
        raise typer.Exit(2)
    try:
        cfg = load_config(config)
    except ConfigError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    report = scan(Home(home), inbox, cfg, extra or [])
    for line in report.lines():
        typer.echo(line)
    raise typer.Exit(report.exit_code)
