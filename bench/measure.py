"""Wall time and peak memory of one command, counting every process it starts.

dbt and Dagster start child processes, so the command's own RSS would miss most of the
memory a stage needs: the resident sets of the whole process tree are summed, sampled a
few times a second (a peak shorter than the interval can be missed).
"""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

SAMPLE_SECONDS = 0.1


@dataclass(frozen=True)
class Measurement:
    seconds: float
    peak_rss: int  # bytes


class CommandFailed(RuntimeError):
    """A measured command exited non-zero; its output is in the log it names."""


def _tree_rss(root: psutil.Process) -> int:
    total = 0
    try:
        processes = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    for process in processes:
        try:
            total += process.memory_info().rss
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue  # exited between listing and reading
    return total


def measure(command: list[str], log: Path, env: dict[str, str] | None = None) -> Measurement:
    """Run `command` to completion, output appended to `log`; raise CommandFailed on error."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        start = time.perf_counter()
        process = psutil.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
        peak = 0
        while True:
            peak = max(peak, _tree_rss(process))
            try:
                process.wait(timeout=SAMPLE_SECONDS)
                break
            except psutil.TimeoutExpired:
                continue
        seconds = time.perf_counter() - start
    if process.returncode != 0:
        raise CommandFailed(f"{' '.join(command)} exited {process.returncode}; see {log}")
    return Measurement(seconds, peak)
