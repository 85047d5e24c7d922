"""Landing's commands and reports: `clinicops inspect`, `land --dry-run`, and the summary
table that `land` and `run` end with (and their exit code 3 when a file was refused)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import polars as pl
import typer
from rich.console import Console
from rich.table import Table

# The run published (or `land` landed what it could), but some file or inbox entry was
# refused: its rows are missing from every figure until it is fixed. README, docs.
EXIT_REFUSED = 3

console = Console(stderr=True, soft_wrap=True)


def _count(value) -> str:
    return "" if value is None else f"{int(value):,}"


def summary_table(rows: list[dict], not_landed: list) -> Table:
    """One line per delivery (file and entity) and per inbox entry not landed."""
    table = Table(title="Landing summary", title_justify="left", show_lines=False)
    for name in ("file", "entity", "status", "received", "loaded", "rejected", "filtered"):
        table.add_column(name, justify="right" if name[0] in "rlf" and name != "file" else "left")
    table.add_column("reason", overflow="fold")
    order = {"failed": 0, "refused": 0, "loaded": 1, "duplicate": 2}
    for row in sorted(rows, key=lambda r: (order.get(r["status"], 3), r["file"])):
        status = row["status"]
        style = "red" if status == "failed" else None
        table.add_row(
            row["file"],
            row.get("entity") or "–",
            "refused" if status == "failed" else status,
            _count(row.get("received")),
            _count(row.get("loaded")),
            _count(row.get("rejected")),
            _count(row.get("filtered")),
            row.get("error") or "",
            style=style,
        )
    for entry in not_landed:
        table.add_row(
            entry.relative,
            "–",
            "waiting" if entry.waiting else "refused",
            "",
            "",
            "",
            "",
            entry.reason,
            style=None if entry.waiting else "red",
        )
    loaded = sum(1 for r in rows if r["status"] == "loaded")
    refused = sum(1 for r in rows if r["status"] == "failed")
    refused += sum(1 for e in not_landed if not e.waiting)
    table.caption = (
        f"{loaded} file(s) landed, {refused} refused; rows loaded "
        f"{sum(r.get('loaded') or 0 for r in rows):,}, rejected "
        f"{sum(r.get('rejected') or 0 for r in rows):,}, filtered "
        f"{sum(r.get('filtered') or 0 for r in rows):,}"
    )
    table.caption_justify = "left"
    return table


def result_rows(reports) -> list[dict]:
    return [
        {
            "file": f.label,
            "entity": f.entity if not f.route or f.route == f.entity else f"{f.entity} ({f.route})",
            "status": f.status,
            "received": f.rows_received,
            "loaded": f.rows_loaded,
            "rejected": f.rows_rejected,
            "filtered": f.rows_filtered,
            "error": f.error,
        }
        for report in reports
        for f in report.files
    ]


def ledger_rows(entries: pl.DataFrame) -> list[dict]:
    """Summary rows from ledger entries (what a Dagster run wrote)."""
    return [
        {
            "file": f"{e['source']}/{e['file_name']}".lstrip("/")
            if e["source"]
            else e["file_name"],
            "entity": e["entity"],
            "status": e["status"],
            "received": e["rows_received"],
            "loaded": e["rows_loaded"],
            "rejected": e["rows_rejected"],
            "filtered": e["rows_filtered"] or 0,
            "error": e["error"],
        }
        for e in entries.iter_rows(named=True)
    ]


def refused_count(rows: list[dict], not_landed: list) -> int:
    return sum(r["status"] == "failed" for r in rows) + sum(not e.waiting for e in not_landed)


def inspect(
    files: Annotated[list[Path], typer.Argument(help="Export files to profile.", exists=True)],
    source: Annotated[
        str | None, typer.Option("--source", help="Source system the files come from.")
    ] = None,
    write_config: Annotated[
        Path | None,
        typer.Option("--write-config", help="Write the drafted mapping YAML to this file."),
    ] = None,
    config: Annotated[Path | None, typer.Option("--config", help="Practice config.")] = None,
) -> None:
    """Profile export files and draft the mapping (routes) that lands them."""
    from pipelines.cli.main import _config
    from pipelines.core.contracts import BY_ENTITY
    from pipelines.land.inspect import draft_route, profile

    cfg = _config(config)
    drafts = []
    for path in files:
        found = profile(path, cfg, source)
        if found.standard:
            name = {"x12": "an X12 835 remittance", "fhir": "FHIR R4 NDJSON"}[found.standard]
            console.print(
                f"[bold]{path.name}[/bold]: {name}, {found.rows:,} rows; entity: "
                f"{found.entity or 'not recognised'} (lands as it is, no mapping needed)"
            )
        else:
            console.print(
                f"[bold]{path.name}[/bold]: encoding {found.encoding}, delimiter "
                f"{found.delimiter!r}, header on line {found.header_line}, {found.rows:,} "
                f"rows; entity: {found.entity or 'not recognised'}"
            )
        if found.error:
            console.print(f"[red]cannot be read:[/red] {found.error}")
            continue
        table = Table(show_header=True)
        for name in ("column", "type", "empty", "distinct", "format", "values"):
            table.add_column(name, overflow="fold")
        for col in found.columns:
            fmt = col.pattern or ", ".join(f"{k}={v}" for k, v in col.number.items())
            values = ", ".join(col.values) if col.values else ""
            table.add_row(
                col.name + (" (personal)" if col.personal else ""),
                col.inferred,
                f"{col.null_share:.0%}",
                f"{col.distinct:,}",
                fmt,
                values,
            )
        console.print(table)
        entity_source = source or (BY_ENTITY[found.entity].source if found.entity else "billing")
        drafts.append(draft_route(found, entity_source))
    text = "\n".join(drafts)
    if write_config:
        write_config.write_text(text, encoding="utf-8")
        console.print(f"drafted mapping written to {write_config}")
    else:
        typer.echo(text)


def print_dry_run(previews, not_landed) -> None:
    table = Table(title="Dry run: nothing was written", title_justify="left")
    for name in ("file", "entity", "received", "would load", "rejected", "filtered"):
        table.add_column(name, justify="left" if name in ("file", "entity") else "right")
    table.add_column("top reasons", overflow="fold")
    for p in previews:
        reasons = (
            p.error
            if p.error
            else "\n".join(f"{n:,} × {example}" for _column, _problem, n, example in p.reasons)
        )
        table.add_row(
            p.relative,
            p.entity if not p.route or p.route == p.entity else f"{p.entity} ({p.route})",
            f"{p.rows_received:,}",
            f"{p.rows_loaded:,}" if not p.error else "refused",
            f"{p.rows_rejected:,}",
            f"{p.rows_filtered:,}",
            reasons,
            style="red" if p.error else None,
        )
    for entry in not_landed:
        table.add_row(entry.relative, "–", "", "waiting" if entry.waiting else "refused", "", "",
                      entry.reason)  # fmt: skip
    console.print(table)
