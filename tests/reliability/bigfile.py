"""Land one very large appointments file and measure the memory it takes.

    python -m tests.reliability.bigfile --size-mb 1024

writes a file of that size (generated here, in blocks), lands it into a fresh home and
prints one JSON line: rows, seconds, file size and the landing's extra peak memory above
what the process held once its libraries were loaded: anonymous memory (what landing
holds) and the whole resident set (which also counts the memory-mapped file's page
cache). Landing streams batches (land.BATCH_ROWS rows at a time), so the anonymous figure
follows the batch size, not the file size. The test runs it at small sizes with small
batches; the README's developer section gives the full-size command.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import threading
import time
from pathlib import Path

import polars as pl

from pipelines.core.config import Config
from pipelines.core.home import Home
from pipelines.land import land as land_mod
from pipelines.land import land_inbox

BLOCK_ROWS = 100_000
KEY = b"bigfile-pseudonym-key-0123456789abcdef"


def _block(start: int) -> pl.DataFrame:
    """BLOCK_ROWS valid appointments with ids from `start`; every 1000th one is broken."""
    n = pl.int_range(start, start + BLOCK_ROWS, eager=True)
    minute = (n % 600).cast(pl.Int64)
    base = pl.datetime(2026, 1, 5, 8) + pl.duration(minutes=minute)
    frame = pl.DataFrame({"n": n}).select(
        pl.format("A{}", "n").alias("appointment_id"),
        pl.format("PAT{}", pl.col("n") % 50_000).alias("patient_id"),
        pl.format("DR{}", pl.col("n") % 40).alias("provider_id"),
        pl.lit("L1").alias("location_id"),
        pl.lit("established").alias("appointment_type"),
        (base - pl.duration(days=7)).dt.strftime("%Y-%m-%d %H:%M").alias("booked_at"),
        base.dt.strftime("%Y-%m-%d %H:%M:%S").alias("scheduled_start"),
        pl.when(pl.col("n") % 1000 == 999)
        .then(pl.lit("x"))
        .otherwise(pl.lit("20"))
        .alias("scheduled_minutes"),
        pl.lit("completed").alias("status"),
        pl.lit(None, pl.String).alias("cancelled_at"),
        (base - pl.duration(minutes=5)).dt.strftime("%Y-%m-%d %H:%M").alias("checked_in_at"),
        (base + pl.duration(minutes=2)).dt.strftime("%Y-%m-%d %H:%M").alias("roomed_at"),
        (base + pl.duration(minutes=8)).dt.strftime("%Y-%m-%d %H:%M").alias("provider_start_at"),
        (base + pl.duration(minutes=25)).dt.strftime("%Y-%m-%d %H:%M").alias("checked_out_at"),
        pl.format("E{}", "n").alias("encounter_id"),
    )
    return frame


def write_file(path: Path, size_bytes: int) -> int:
    """Write at least `size_bytes` of appointments; returns the number of rows."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = 0
    with open(path, "wb") as fh:
        while fh.tell() < size_bytes:
            _block(rows).write_csv(fh, include_header=rows == 0)
            rows += BLOCK_ROWS
    return rows


def _kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise KeyError(field)


class _PeakAnon(threading.Thread):
    """The highest anonymous resident memory seen, sampled every 20 ms.

    Polars memory-maps the CSV it scans; those pages count in the resident set but are
    the kernel's page cache (clean, dropped under pressure), not data held by landing.
    Anonymous memory is what landing itself holds, so that is the figure that must not
    grow with the file.
    """

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak = _kib("RssAnon")
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(0.02):
            self.peak = max(self.peak, _kib("RssAnon"))


def measure(size_mb: int, batch_rows: int | None, workdir: Path) -> dict:
    inbox = workdir / "inbox"
    rows = write_file(inbox / "scheduling" / "appointments_big.csv", size_mb * 1024 * 1024)
    if batch_rows:
        land_mod.BATCH_ROWS = batch_rows
    from pipelines.land import quality

    quality._context()  # load Great Expectations before the baseline is taken
    # The kernel's peak counter starts again from here (Linux: write 5 to clear_refs).
    Path("/proc/self/clear_refs").write_text("5")
    before_rss, before_anon = _kib("VmRSS"), _kib("RssAnon")
    sampler = _PeakAnon()
    sampler.start()
    started = time.perf_counter()
    report = land_inbox(inbox, Home(workdir / "home"), Config(), pseudonym_key=KEY)
    seconds = time.perf_counter() - started
    sampler.done.set()
    sampler.join()
    (result,) = report.files
    return {
        "file_mb": round((inbox / "scheduling" / "appointments_big.csv").stat().st_size / 2**20),
        "rows_written": rows,
        "status": result.status,
        "rows_received": result.rows_received,
        "rows_loaded": result.rows_loaded,
        "rows_rejected": result.rows_rejected,
        "batch_rows": land_mod.BATCH_ROWS,
        "seconds": round(seconds, 1),
        "peak_rss_extra_mb": round((_kib("VmHWM") - before_rss) / 1024),
        "peak_anon_extra_mb": round((sampler.peak - before_anon) / 1024),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=1024)
    parser.add_argument("--batch-rows", type=int, default=None)
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    if args.workdir:
        print(json.dumps(measure(args.size_mb, args.batch_rows, args.workdir)))
        return
    with tempfile.TemporaryDirectory(prefix="clinicops-bigfile-") as tmp:
        print(json.dumps(measure(args.size_mb, args.batch_rows, Path(tmp))))


if __name__ == "__main__":
    main()
