"""`python -m bench.run`: generate the practices, time every step, write the table.

Each repeat times, for every size in turn: the floor; the pandas peer (bench/pandas_peer.py,
the analyst's alternative); landing, dbt build and publish as separate `clinicops`
commands in a fresh home (then the dashboard pages' server times on that home's serving
file, and, on the increment size, the increment week landed, built and published on top
of that home); and the whole `clinicops run` in another fresh home. Repeats are the
outer loop, so a run stopped early still has every size measured, and the table is
rewritten after each size.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Annotated

import typer

from bench import practices
from bench.machine import describe, load_average
from bench.measure import Measurement, measure
from bench.report import Results, rows, table_markdown, targets, write_markdown

ROOT = Path(__file__).resolve().parent.parent
CLINICOPS = Path(sys.executable).with_name("clinicops")

app = typer.Typer(add_completion=False, pretty_exceptions_enable=False)


def _say(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def _env() -> dict[str, str]:
    """Children import this checkout's code, even when it is not the installed one."""
    # Synthetic practices only: a fixed key, since landing refuses to run without one.
    key = {"CLINICOPS_PSEUDONYM_KEY": "bench-synthetic-practice-key"}
    return {**key, **os.environ, "PYTHONPATH": str(ROOT)}


def _prepare(size: practices.Size, folder: Path, increment: bool) -> None:
    """Generate a size's inbox once; a complete one from an earlier run is reused."""
    done = folder / f"complete-{size.providers}x{size.weeks}{'+1' if increment else ''}"
    if done.exists():
        _say(f"{size.name}: reusing {folder}")
        return
    shutil.rmtree(folder, ignore_errors=True)
    _say(f"{size.name}: generating {size.providers} providers × {size.weeks} weeks")
    if increment:
        practices.generate_with_increment(
            size, folder / "inbox", folder / "increment", folder / "scratch"
        )
    else:
        practices.generate(size, folder / "inbox")
    done.touch()


class Harness:
    def __init__(self, work: Path, results: Results, peer: bool, pages: bool) -> None:
        self.work = work
        self.results = results
        self.peer = peer
        self.pages = pages

    def dashboard_pages(self, size: str, repeat: int, home: Path) -> None:
        """Per-page server times on the freshly published home (bench/dashboard_pages.py)."""
        out = self.work / "logs" / f"{size}-{repeat}-pages.json"
        self.step(
            size,
            "dashboard pages",
            repeat,
            [
                sys.executable,
                "-m",
                "bench.dashboard_pages",
                "--home",
                str(home),
                "--json",
                str(out),
            ],
        )
        self.results.add_pages(size, json.loads(out.read_text(encoding="utf-8")))

    def step(self, size: str, step: str, repeat: int, command: list[str]) -> Measurement:
        log = self.work / "logs" / f"{size}-{repeat}-{step.replace(' ', '-')}.log"
        measured = measure(command, log, env=_env())
        self.results.add(size, step, measured)
        _say(
            f"{size} #{repeat} {step}: {measured.seconds:.1f} s, "
            f"{measured.peak_rss / 2**30:.2f} GiB"
        )
        return measured

    def clinicops(self, size: str, step: str, repeat: int, *args: str | Path) -> None:
        self.step(size, step, repeat, [str(CLINICOPS), *map(str, args)])

    def keep_dbt_timings(self, home: Path, name: str) -> None:
        """dbt's per-model timings, for profiling after the homes are gone."""
        run_results = home / "dbt" / "target" / "run_results.json"
        if run_results.exists():
            target = self.work / "dbt-timings" / f"{name}.json"
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(run_results, target)

    def repeat(self, size: practices.Size, repeat: int, increment: bool, whole: bool) -> None:
        folder = self.work / size.name
        inbox = folder / "inbox"
        homes = folder / "homes"
        shutil.rmtree(homes, ignore_errors=True)
        floor_db = homes / "floor.duckdb"
        floor_db.parent.mkdir(parents=True)
        self.step(
            size.name,
            "floor",
            repeat,
            [sys.executable, "-m", "bench.floor", str(floor_db), str(inbox)],
        )
        floor_db.unlink()
        if self.peer:
            self.step(
                size.name,
                "pandas peer",
                repeat,
                [
                    sys.executable,
                    "-m",
                    "bench.pandas_peer",
                    str(homes / "peer.parquet"),
                    str(inbox),
                ],
            )

        home = homes / "stages"
        self.clinicops(size.name, "land", repeat, "land", "--home", home, "--inbox", inbox)
        self.clinicops(size.name, "dbt build", repeat, "build", "--home", home)
        self.keep_dbt_timings(home, f"{size.name}-{repeat}-build")
        self.clinicops(size.name, "publish", repeat, "publish", "--home", home)
        if self.pages:
            self.dashboard_pages(size.name, repeat, home)
        if increment:
            week = folder / "increment"
            self.clinicops(
                size.name, "increment land", repeat, "land", "--home", home, "--inbox", week
            )
            self.clinicops(size.name, "increment build", repeat, "build", "--home", home)
            self.keep_dbt_timings(home, f"{size.name}-{repeat}-increment")
            self.clinicops(size.name, "increment publish", repeat, "publish", "--home", home)
        shutil.rmtree(home)
        if whole:
            self.clinicops(
                size.name, "clinicops run", repeat, "run", "--home", homes / "run", "--inbox", inbox
            )
        shutil.rmtree(homes)

    def save(self) -> None:
        raw = {
            f"{size}/{step}": [asdict(m) for m in runs]
            for (size, step), runs in self.results.runs.items()
        }
        pages = json.dumps(self.results.pages, indent=1)
        (self.work / "pages.json").write_text(pages, encoding="utf-8")
        (self.work / "results.json").write_text(json.dumps(raw, indent=1), encoding="utf-8")


@app.command()
def main(
    sizes: Annotated[
        str, typer.Option(help="Comma-separated: small, 30x52, medium, 100x104, large.")
    ] = (",".join(practices.MEASURED)),
    repeat: Annotated[int, typer.Option(min=1, help="Runs per figure (median).")] = 3,
    work: Annotated[Path, typer.Option(help="Scratch folder: inboxes, homes, logs.")] = Path(
        "/tmp/bench/work"
    ),
    out: Annotated[Path, typer.Option(help="The report to write.")] = ROOT
    / "docs"
    / "benchmarks.md",
    run_sizes: Annotated[
        str | None,
        typer.Option(
            help='Sizes that also time the whole `clinicops run` (default: all; "" for none).'
        ),
    ] = None,
    increment: Annotated[
        bool, typer.Option(help="Time a one-week increment on the largest size.")
    ] = True,
    peer: Annotated[bool, typer.Option(help="Time the pandas peer at every size.")] = True,
    pages: Annotated[
        bool, typer.Option(help="Time every dashboard page on each size's published home.")
    ] = True,
) -> None:
    """Benchmark clinicops at the given sizes against the bare-DuckDB floor."""
    chosen = [s.strip() for s in sizes.split(",") if s.strip()]
    unknown = [s for s in chosen if s not in practices.SIZES]
    if unknown or not chosen:
        raise typer.BadParameter(f"unknown size(s) {unknown}; choose from {list(practices.SIZES)}")
    order = [practices.SIZES[s] for s in practices.SIZES if s in chosen]
    increment_size = order[-1].name if increment else None
    whole = set(chosen if run_sizes is None else [s.strip() for s in run_sizes.split(",")])
    work = work.resolve()
    work.mkdir(parents=True, exist_ok=True)
    command = "python -m bench.run " + shlex.join(
        ["--sizes", ",".join(s.name for s in order), "--repeat", str(repeat)]
        + ([] if run_sizes is None else ["--run-sizes", run_sizes])
        + ([] if increment else ["--no-increment"])
        + ([] if peer else ["--no-peer"])
        + ([] if pages else ["--no-pages"])
    )
    results = Results(
        sizes=[s.name for s in order],
        increment_size=increment_size,
        machine=describe(ROOT),
        command=command,
        load_before=load_average(),
    )
    harness = Harness(work, results, peer, pages)
    for size in order:
        _prepare(size, work / size.name, size.name == increment_size)
    for number in range(1, repeat + 1):
        # Largest first: on a busy machine the figures the targets need arrive first.
        for size in reversed(order):
            harness.repeat(size, number, size.name == increment_size, size.name in whole)
            results.load_after = load_average()
            harness.save()
            write_markdown(results, out)
        _say(f"repeat {number} of {repeat} done; {out} updated")
    print(table_markdown(rows(results)))
    for name, measured, met in targets(results):
        print(f"{name}: {measured} ({'met' if met else 'MISSED'})")


if __name__ == "__main__":
    app()
