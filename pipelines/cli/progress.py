"""What `clinicops run` shows while it works: one progress line per stage (land, build,
publish), and Dagster's and dbt's own lines only with `--verbose`.

Quiet by default because a first run printed some 780 lines (every dbt model and test,
every Dagster event) and then said nothing for most of a minute. The lines are not lost:
they go to `<home>/logs/run.log`, and a failing run prints the end of that file.

Dagster tells us which step a log line belongs to (a logger of our own on the run), and
dagster-dbt re-emits dbt's lines on stdout, from which "12 of 258 OK" gives the build's
count.
"""

from __future__ import annotations

import io
import logging
import re
import sys
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager, redirect_stdout
from pathlib import Path

from dagster import LoggerDefinition, colored_console_logger
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

# Dagster step key (or its prefix) -> the stage a reader knows.
STAGES = {"land": "Land the inbox", "build": "Build KPIs (dbt)", "publish": "Publish"}
_STEP_STAGE = (("land", "land"), ("clinicops_dbt_models", "build"), ("serving", "publish"))
_DBT_COUNT = re.compile(r"^\s*(\d+) of (\d+) (OK|PASS|WARN|ERROR|FAIL|SKIP)\b")
TAIL_LINES = 40


def stage_of(step_key: str | None) -> str | None:
    for prefix, stage in _STEP_STAGE:
        if step_key and step_key.startswith(prefix):
            return stage
    return None


def dbt_count(line: str) -> tuple[int, int] | None:
    """(done, total) from a dbt result line such as `12 of 258 OK created ...`."""
    found = _DBT_COUNT.match(line)
    return (int(found[1]), int(found[2])) if found else None


class RunDisplay:
    """A rich progress bar per stage, fed by Dagster's log records and dbt's lines; every
    line also goes to the run log."""

    def __init__(self, log_path: Path, console: Console):
        log_path.parent.mkdir(parents=True, exist_ok=True)
        self.log = log_path.open("w", encoding="utf-8")
        self.tail: deque[str] = deque(maxlen=TAIL_LINES)
        self.progress = Progress(
            SpinnerColumn(finished_text="[green]✓[/green]"),
            TextColumn("{task.description:<18}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("[dim]{task.fields[note]}"),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        )
        self.tasks: dict[str, TaskID] = {
            stage: self.progress.add_task(text, total=None, start=False, note="")
            for stage, text in STAGES.items()
        }
        self.current: str | None = None
        self.ok = True  # the caller sets False when the run failed

    def line(self, text: str) -> None:
        self.log.write(text + "\n")
        self.tail.append(text)
        count = dbt_count(text)
        if count:
            self._enter("build")
            self.progress.update(self.tasks["build"], completed=count[0], total=count[1])

    def record(self, step_key: str | None, message: str, level: int = logging.INFO) -> None:
        self.line(message)
        if level >= logging.WARNING:  # a warning is for the reader, quiet or not
            self.progress.console.print(f"[yellow]warning:[/yellow] {message}", highlight=False)
        stage = stage_of(step_key)
        if stage:
            self._enter(stage)
            if stage == "land" and ": landing as delivery" in message:
                self.progress.update(self.tasks["land"], note=message.split(":")[0])

    def _enter(self, stage: str) -> None:
        if stage == self.current:
            return
        if self.current:
            self._finish(self.current)
        self.current = stage
        self.progress.start_task(self.tasks[stage])

    def _finish(self, stage: str) -> None:
        task = self.tasks[stage]
        total = self.progress.tasks[task].total or 1
        self.progress.update(task, total=total, completed=total, note="")
        self.progress.stop_task(task)

    def close(self, success: bool) -> None:
        if success and self.current:
            self._finish(self.current)
        self.progress.stop()
        self.log.close()


class _Lines(io.TextIOBase):
    """A stdout that hands each complete line to the display."""

    def __init__(self, display: RunDisplay):
        self.display, self.buffer_ = display, ""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.buffer_ += text
        *lines, self.buffer_ = self.buffer_.split("\n")
        for line in lines:
            self.display.line(line.rstrip())
        return len(text)


def _handler(display: RunDisplay) -> logging.Handler:
    class ToDisplay(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            meta = getattr(record, "dagster_meta", {}) or {}
            message = meta.get("orig_message") or record.getMessage()
            display.record(meta.get("step_key"), str(message), record.levelno)

    return ToDisplay()


def progress_logger(display: RunDisplay) -> LoggerDefinition:
    """A Dagster logger that feeds the display (configured on the run as `progress`)."""

    def make(_context) -> logging.Logger:
        log = logging.Logger("clinicops.run", level=logging.INFO)
        log.addHandler(_handler(display))
        return log

    return LoggerDefinition(make, description="clinicops run's progress display")


@contextmanager
def run_display(
    log_path: Path, console: Console, verbose: bool
) -> Iterator[tuple[dict[str, LoggerDefinition], dict, RunDisplay | None]]:
    """The loggers and run config for the run, quiet or verbose. Quiet: the display and a
    stdout that feeds it; verbose: Dagster's console logger and dbt's lines as they come."""
    if verbose:
        loggers = {"console": colored_console_logger}
        yield loggers, {"loggers": {"console": {"config": {"log_level": "INFO"}}}}, None
        return
    display = RunDisplay(log_path, console)
    display.progress.start()
    try:
        with redirect_stdout(_Lines(display)):
            yield {"progress": progress_logger(display)}, {"loggers": {"progress": {}}}, display
    except BaseException:
        display.ok = False
        raise
    finally:
        display.close(display.ok)


def print_tail(display: RunDisplay | None, console: Console, log_path: Path) -> None:
    """After a failed quiet run: the last lines, which name what failed."""
    if display is None:
        return
    console.print(f"[dim]last {len(display.tail)} lines of {log_path}:[/dim]")
    for line in display.tail:
        console.print(line, markup=False, highlight=False)
    sys.stderr.flush()
