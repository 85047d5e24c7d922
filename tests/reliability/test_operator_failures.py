"""What an operator meets (issue 21, items 1, 5 and 10): a file name that is not UTF-8, a file
moved away while it lands, a full disk, a read-only home. Each ends in one sentence with
nothing half-written; `clinicops --debug` shows the traceback.

The disk-full cases put the home on a small tmpfs the test mounts (it needs root; skipped
otherwise) and fill it with a ballast file.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import polars as pl
import pytest

from pipelines.core.config import Config
from pipelines.core.home import SCHEMA_DELIVERY_ID, Home
from pipelines.core.secrets import KEY_ENV
from pipelines.land import ledger
from pipelines.land.land import _land
from pipelines.land.read import discover
from pipelines.land.routes import plan
from tests.conftest import clinicops_command
from tests.landing.conftest import TEST_KEY, deliver, row
from tests.reliability.conftest import (
    assert_same_kpis,
    clinicops,
    kpi_values,
    run_ok,
    sha256,
)


def _cli(*args: str) -> subprocess.CompletedProcess:
    """The CLI with one pseudonym key, so that two homes' lakes can be compared."""
    env = {**os.environ, KEY_ENV: TEST_KEY.decode()}
    return subprocess.run(
        [clinicops_command(), *args], capture_output=True, text=True, timeout=900, env=env
    )


@contextmanager
def tmpfs(path: Path, size: str, *options: str) -> Iterator[Path]:
    path.mkdir(parents=True, exist_ok=True)
    opts = ",".join([f"size={size}", *options])
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", opts, "tmpfs", str(path)], capture_output=True, text=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root): {mounted.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=True)


def _fill(folder: Path, leave_bytes: int) -> Path:
    """A ballast file that leaves about `leave_bytes` free on folder's file system."""
    ballast = folder / "ballast"
    stat = os.statvfs(folder)
    free = stat.f_bavail * stat.f_frsize
    with open(ballast, "wb") as fh:
        fh.truncate(0)
        chunk = b"\0" * (1 << 20)
        remaining = max(0, free - leave_bytes)
        while remaining > 0:
            fh.write(chunk[: min(len(chunk), remaining)])
            remaining -= min(len(chunk), remaining)
    return ballast


def _charges(n: int, tag: str) -> list[dict[str, str]]:
    return [
        row(
            "charges",
            charge_id=f"C-{tag}-{i:07d}",
            claim_id=f"CL-{tag}-{i:07d}",
            encounter_id=f"E-{tag}-{i:07d}",
            patient_id=f"P-{i:07d}",
            charge_amount=f"{(i * 37) % 100000 / 100:.2f}",
        )
        for i in range(n)
    ]


@pytest.fixture
def inbox(tmp_path: Path) -> Path:
    """A large file (several MB of Parquet parts) and two small ones after it, in the
    lexical order landing applies them (a file's name starts with its entity)."""
    inbox = tmp_path / "inbox"
    deliver(inbox, "payers", [row("payers")], name="payers.csv")
    deliver(inbox, "charges", _charges(120_000, "big"), name="charges_big.csv")
    deliver(inbox, "claims", [row("claims")], name="claims_after.csv")
    return inbox


def _loaded_rows(home: Home) -> pl.DataFrame:
    """What the lake holds, without the columns that differ between two landings."""
    frames = []
    for entity in ("payers", "charges", "claims"):
        parts = sorted((home.raw / entity).glob("delivery=*/*.parquet"))
        frame = pl.read_parquet(parts).drop("_delivery_id", "_received_at")
        frames.append(
            frame.select(pl.lit(entity).alias("entity"), pl.struct(pl.all()).hash().alias("row"))
        )
    return pl.concat(frames).sort(pl.all())


def _assert_nothing_half_written(home: Home) -> None:
    entries = ledger.ledger(home)
    failed = set(entries.filter(pl.col("status") == "failed")["delivery_id"])
    for area in (home.raw, home.rejected, home.quality):
        ids = {p.name.removeprefix("delivery=").removesuffix(".json") for p in area.glob("*/*")}
        assert not ids & failed, f"a failed delivery left files in {area}"
        assert ids - {SCHEMA_DELIVERY_ID} <= set(entries["delivery_id"])
    assert not list(home.lake.rglob("*.tmp-*")), "a temporary file was left"
    assert not any(home.incoming.iterdir()), "a delivery was left in _incoming"


def test_a_file_name_that_is_not_utf8_lands_and_is_recorded(tmp_path: Path):
    inbox, home = tmp_path / "inbox", Home(tmp_path / "home")
    deliver(inbox, "payers", [row("payers")], name=os.fsdecode(b"payers_\xe9.csv"))
    deliver(inbox, "claims", [row("claims")])
    proc = _cli("land", "--home", str(home.root), "--inbox", str(inbox))
    assert proc.returncode == 0, proc.stderr
    assert "payers_\\xe9.csv" in proc.stderr
    entries = ledger.ledger(home)
    assert sorted(entries["file_name"]) == ["claims.csv", "payers_\\xe9.csv"]
    assert set(entries["status"]) == {"loaded"}


def test_a_file_removed_while_landing_fails_alone_and_leaves_nothing(tmp_path: Path):
    inbox, home = tmp_path / "inbox", Home(tmp_path / "home")
    deliver(inbox, "payers", [row("payers")])
    gone = deliver(inbox, "claims", [row("claims")])
    deliver(inbox, "locations", [row("locations")])
    config = Config()
    # the scan saw it and planned its landing; then it was moved away before its turn
    jobs = [(d, t) for d in discover(inbox) for t in plan(d, config)]
    gone.rename(tmp_path / "elsewhere.csv")
    report = _land(jobs, home, config, None, TEST_KEY)
    by_name = {f.file_name: f for f in report.files}
    assert by_name["claims.csv"].status == "failed"
    assert "was moved or removed while it was being landed" in by_name["claims.csv"].error
    assert by_name["payers.csv"].status == by_name["locations.csv"].status == "loaded"
    entry = ledger.ledger(home).filter(pl.col("file_name") == "claims.csv")
    assert entry["status"].to_list() == ["failed"]
    _assert_nothing_half_written(home)
    assert [p.name for p in (home.raw / "claims").iterdir()] == [f"delivery={SCHEMA_DELIVERY_ID}"]


def test_disk_full_while_landing_ends_in_one_sentence_and_a_rerun_equals_a_clean_landing(
    tmp_path: Path, inbox: Path
):
    clean = Home(tmp_path / "clean")
    assert _cli("land", "--home", str(clean.root), "--inbox", str(inbox)).returncode == 0
    with tmpfs(tmp_path / "disk", "64m") as disk:
        home = Home(disk / "home")
        proc = _cli("land", "--home", str(home.root), "--inbox", str(tmp_path / "none"))
        assert proc.returncode == 0, proc.stderr  # the lake and the demo key exist
        ballast = _fill(disk, 1 << 20)
        proc = _cli("land", "--home", str(home.root), "--inbox", str(inbox))
        assert proc.returncode == 1
        last = proc.stderr.strip().splitlines()[-1]
        assert "landing stopped: the disk holding" in last and "is full" in last, proc.stderr
        assert "Traceback" not in proc.stderr
        entries = ledger.ledger(home)
        big = entries.filter(pl.col("file_name") == "charges_big.csv")
        assert big["status"].to_list() == ["failed"], entries
        assert "disk holding the home is full" in big["error"][0]
        assert "claims_after.csv" not in entries["file_name"].to_list()  # landing stopped
        _assert_nothing_half_written(home)

        debug = _cli("--debug", "land", "--home", str(home.root), "--inbox", str(inbox))
        assert debug.returncode == 1 and "Traceback" in debug.stderr

        ballast.unlink()
        proc = _cli("land", "--home", str(home.root), "--inbox", str(inbox))
        assert proc.returncode == 0, proc.stderr
        _assert_nothing_half_written(home)
        assert _loaded_rows(home).equals(_loaded_rows(clean))


def test_a_read_only_home_ends_in_one_sentence(tmp_path: Path, inbox: Path):
    with tmpfs(tmp_path / "ro", "1m", "ro") as disk:
        proc = _cli("land", "--home", str(disk / "home"), "--inbox", str(inbox))
    assert proc.returncode == 1
    message = proc.stderr.strip()
    assert len(message.splitlines()) == 1, message
    assert "read-only" in message and "Traceback" not in message


@pytest.mark.e2e
def test_disk_full_keeps_the_old_serving_file_and_a_rerun_equals_a_clean_run(
    small_practice, baseline_home, tmp_path: Path
):
    with tmpfs(tmp_path / "disk", "192m") as disk:
        home = Home(disk / "home")
        stage = ["--home", str(home.root)]
        run_ok("land", *stage, "--inbox", str(tmp_path / "none"))  # the lake and the demo key
        ballast = _fill(disk, 256 << 10)
        landing = clinicops("land", *stage, *small_practice.inbox_args)
        assert landing.returncode == 1, landing.stdout[-3000:]
        assert "landing stopped: the disk holding" in landing.stdout.strip().splitlines()[-1]
        assert "Traceback" not in landing.stdout
        assert "failed" in set(ledger.ledger(home)["status"]), "the failed file has no entry"
        _assert_nothing_half_written(home)
        ballast.unlink()

        run_ok("land", *stage, *small_practice.inbox_args)
        run_ok("build", *stage)
        run_ok("publish", *stage)
        assert_same_kpis(kpi_values(home.serving), kpi_values(baseline_home.serving))
        published = sha256(home.serving)

        ballast = _fill(disk, 1 << 20)
        publishing = clinicops("publish", *stage)
        assert publishing.returncode == 1, publishing.stdout[-3000:]
        last = publishing.stdout.strip().splitlines()[-1]
        assert "publishing stopped: the disk holding" in last and "is full" in last
        assert "Traceback" not in publishing.stdout
        assert sha256(home.serving) == published, "the old serving file was touched"
        assert not list(home.root.glob(".serving.duckdb.tmp-*"))
        ballast.unlink()

        run_ok("publish", *stage)
        assert_same_kpis(kpi_values(home.serving), kpi_values(baseline_home.serving))
