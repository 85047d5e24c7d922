"""The benchmark's table and targets, printed and written as docs/benchmarks.md."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from pathlib import Path

from bench.measure import Measurement

GiB = 2**30
STAGES = ("land", "dbt build", "publish")
INCREMENT_STAGES = ("increment land", "increment build", "increment publish")
# Hand-written analysis below this heading survives a new run of the harness.
FINDINGS = "## Findings"


@dataclass
class Results:
    """Every measurement of one harness run: (size, step) -> one Measurement per repeat."""

    sizes: list[str]
    increment_size: str | None
    machine: dict[str, str]
    command: str
    load_before: str
    load_after: str = ""
    runs: dict[tuple[str, str], list[Measurement]] = field(default_factory=dict)
    # size -> page -> one {cold_s, p50_s, p95_s, runs} per repeat (bench/dashboard_pages.py)
    pages: dict[str, dict[str, list[dict[str, float]]]] = field(default_factory=dict)

    def add(self, size: str, step: str, measurement: Measurement) -> None:
        self.runs.setdefault((size, step), []).append(measurement)

    def add_pages(self, size: str, pages: dict[str, dict[str, float]]) -> None:
        for page, times in pages.items():
            self.pages.setdefault(size, {}).setdefault(page, []).append(times)

    def summed(self, size: str, steps: tuple[str, ...]) -> list[Measurement]:
        """Per repeat, the steps one after another: seconds add up, peak is the highest."""
        per_step = [self.runs.get((size, step), []) for step in steps]
        count = min(len(runs) for runs in per_step)
        return [
            Measurement(
                sum(runs[i].seconds for runs in per_step),
                max(runs[i].peak_rss for runs in per_step),
            )
            for i in range(count)
        ]


@dataclass(frozen=True)
class Row:
    size: str
    step: str
    seconds: float
    peak_rss: int
    runs: int
    ratio: str


def _median(runs: list[Measurement]) -> tuple[float, int]:
    return statistics.median(m.seconds for m in runs), max(m.peak_rss for m in runs)


def rows(results: Results) -> list[Row]:
    table: list[Row] = []
    for size in results.sizes:
        floor_runs = results.runs.get((size, "floor"), [])
        floor = _median(floor_runs)[0] if floor_runs else None
        steps: list[tuple[str, list[Measurement]]] = [("floor", floor_runs)]
        steps.append(("pandas peer", results.runs.get((size, "pandas peer"), [])))
        steps += [(step, results.runs.get((size, step), [])) for step in STAGES]
        steps.append(("full build (land + build + publish)", results.summed(size, STAGES)))
        steps.append(("clinicops run (Dagster)", results.runs.get((size, "clinicops run"), [])))
        for step, runs in steps:
            if not runs:
                continue
            seconds, peak = _median(runs)
            ratio = f"{seconds / floor:.1f}×" if floor else "–"
            table.append(Row(size, step, seconds, peak, len(runs), ratio))
        if size == results.increment_size:
            full = results.summed(size, STAGES)
            for step in INCREMENT_STAGES:
                runs = results.runs.get((size, step), [])
                if runs:
                    seconds, peak = _median(runs)
                    table.append(Row(size, step, seconds, peak, len(runs), "–"))
            increment = results.summed(size, INCREMENT_STAGES)
            if increment and full:
                seconds, peak = _median(increment)
                share = f"{seconds / _median(full)[0]:.0%} of full build"
                table.append(
                    Row(size, "increment (one week)", seconds, peak, len(increment), share)
                )
    return table


def table_markdown(table: list[Row]) -> str:
    lines = [
        "| practice | step | wall s (median) | runs | peak RSS | × floor |",
        "|---|---|---:|---:|---:|---|",
    ]
    for row in table:
        lines.append(
            f"| {row.size} | {row.step} | {row.seconds:.1f} | {row.runs} | "
            f"{row.peak_rss / GiB:.2f} GiB | {row.ratio} |"
        )
    return "\n".join(lines)


# Issue 23: `clinicops run` at least this many times faster than the pandas peer.
PEER_SPEEDUP_TARGETS = {"30x52": 3.0, "100x104": 20.0}
PAGES_SIZE = "100x104"
PAGE_P95_TARGET_S = 0.3


def side_by_side(results: Results) -> list[tuple[str, float, float, float]]:
    """(size, pandas peer s, clinicops run s, peer ÷ run) where both were timed."""
    found = []
    for size in results.sizes:
        peer = results.runs.get((size, "pandas peer"), [])
        run = results.runs.get((size, "clinicops run"), [])
        if peer and run:
            p, r = _median(peer)[0], _median(run)[0]
            found.append((size, p, r, p / r))
    return found


def side_by_side_markdown(results: Results) -> str:
    lines = [
        "| practice | pandas peer s | clinicops run s | speed-up (peer ÷ run) |",
        "|---|---:|---:|---:|",
    ]
    for size, peer, run, speedup in side_by_side(results):
        lines.append(f"| {size} | {peer:.1f} | {run:.1f} | {speedup:.2f}× |")
    return "\n".join(lines)


def page_times(results: Results) -> list[tuple[str, str, float, float, float]]:
    """(size, page, cold s, warm p50 s, warm p95 s): medians over repeats, p95 the worst."""
    found = []
    for size in results.sizes:
        for page, runs in results.pages.get(size, {}).items():
            found.append(
                (
                    size,
                    page,
                    statistics.median(r["cold_s"] for r in runs),
                    statistics.median(r["p50_s"] for r in runs),
                    max(r["p95_s"] for r in runs),
                )
            )
    return found


def pages_markdown(results: Results) -> str:
    lines = [
        "| practice | page | cold s | warm p50 ms | warm p95 ms |",
        "|---|---|---:|---:|---:|",
    ]
    for size, page, cold, p50, p95 in page_times(results):
        lines.append(f"| {size} | {page} | {cold:.2f} | {p50 * 1000:.0f} | {p95 * 1000:.0f} |")
    return "\n".join(lines)


def targets(results: Results) -> list[tuple[str, str, bool]]:
    """(target, measured, met) for each target whose size was run."""
    found: list[tuple[str, str, bool]] = []
    speedups = {size: (peer, run, s) for size, peer, run, s in side_by_side(results)}
    for size, goal in PEER_SPEEDUP_TARGETS.items():
        if size in speedups:
            peer, run, speedup = speedups[size]
            found.append(
                (
                    f"{size}: `clinicops run` ≥ {goal:g}× faster than the pandas peer",
                    f"{speedup:.2f}× ({run:.0f} s against {peer:.0f} s)",
                    speedup >= goal,
                )
            )
    pages = [(page, p95) for size, page, _, _, p95 in page_times(results) if size == PAGES_SIZE]
    if pages:
        page, worst = max(pages, key=lambda item: item[1])
        found.append(
            (
                f"{PAGES_SIZE}: every page's warm server time p95 ≤ 300 ms",
                f"worst {worst * 1000:.0f} ms ({page})",
                worst <= PAGE_P95_TARGET_S,
            )
        )
    full = results.summed("large", STAGES)
    floor = results.runs.get(("large", "floor"), [])
    if full and floor:
        ratio = _median(full)[0] / _median(floor)[0]
        found.append(("large full build ≤ 3× the floor", f"{ratio:.1f}×", ratio <= 3))
    if full:
        peak = _median(full)[1] / GiB
        found.append(("large full build peak ≤ 4 GiB", f"{peak:.2f} GiB", peak <= 4))
    increment = results.summed("large", INCREMENT_STAGES)
    if full and increment and results.increment_size == "large":
        share = _median(increment)[0] / _median(full)[0]
        found.append(("increment ≤ 10% of the large full build", f"{share:.0%}", share <= 0.10))
    run = results.runs.get(("small", "clinicops run"), [])
    if run:
        seconds = _median(run)[0]
        found.append(("small whole `clinicops run` ≤ 60 s", f"{seconds:.0f} s", seconds <= 60))
    return found


def markdown(results: Results, kept_findings: str = "") -> str:
    machine = results.machine
    target_lines = [
        f"| {name} | {measured} | {'met' if met else '**missed**'} |"
        for name, measured, met in targets(results)
    ]
    parts = [
        "# Benchmarks",
        "",
        "Produced by `" + results.command + "` (bench/run.py): wall seconds are the median "
        "of the runs counted, peak RSS is the highest resident memory of the step's whole "
        "process tree over those runs, and every ratio compares figures of the same harness "
        "run. The floor is bare DuckDB loading the same CSV files as text and one "
        "hand-written SQL script (bench/floor.sql) that applies the same contract checks "
        "and newest-delivery-per-key rule, then computes the core KPIs per location and "
        "month. The "
        "increment is one more week delivered as new files on top of the history, landed, "
        "built and published.",
        "",
        "## Machine",
        f"- CPU: {machine['cpu']}, {machine['cores']} cores; memory {machine['memory']}",
        f"- {machine['os']}, Python {machine['python']}",
        f"- {machine['versions']}",
        f"- commit {machine['commit']}",
        f"- load average (1 / 5 / 15 min) at start {results.load_before}, at end "
        f"{results.load_after or 'n/a'} (the machine is shared with other engineers' runs)",
        "",
        "## Results",
        table_markdown(rows(results)),
        "",
        "## clinicops run against the pandas peer",
        "The pandas peer (bench/pandas_peer.py) is the analyst's alternative: read the "
        "CSVs, validate, keep the newest version per key, compute every KPI at week and "
        "month grain for practice, locations and providers.",
        "",
        side_by_side_markdown(results),
        "",
        "## Dashboard pages (server time per page, warm server)",
        pages_markdown(results),
        "",
        "## Targets",
        "| target | measured | |",
        "|---|---|---|",
        *target_lines,
        "",
    ]
    text = "\n".join(parts)
    return text + ("\n" + kept_findings.strip() + "\n" if kept_findings.strip() else "")


def write_markdown(results: Results, out: Path) -> None:
    kept = ""
    if out.exists():
        old = out.read_text(encoding="utf-8")
        if FINDINGS in old:
            kept = old[old.index(FINDINGS) :]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(markdown(results, kept), encoding="utf-8")
