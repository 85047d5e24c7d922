"""SFTP pulls against a real OpenSSH sshd on 127.0.0.1 (started once for the module)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest

from pipelines.core.home import Home
from pipelines.land import land_inbox
from pipelines.pull import check, pull_source
from tests.pull.conftest import (
    config_for,
    inbox_files,
    ledger_files,
    pull_in_process_killed_at,
    write_config,
)
from tests.pull.servers import start_sshd, stop

PAYERS = "payer_id,payer_name,financial_class\nP1,Acme Health,commercial\nP2,State Plan,medicaid\n"
PAYERS_2 = "payer_id,payer_name,financial_class\nP3,Blue Plan,commercial\n"


@pytest.fixture(scope="module")
def sshd(tmp_path_factory):
    server = start_sshd(tmp_path_factory.mktemp("sshd") / "server")
    yield server
    stop(server.process)


@pytest.fixture
def outbox(sshd, request) -> Path:
    folder = sshd.root / f"outbox-{request.node.name}"
    folder.mkdir()
    return folder


def source(sshd, outbox: Path, **extra) -> dict:
    return {
        "drop": {
            "kind": "sftp",
            "host": "127.0.0.1",
            "port": sshd.port,
            "user": sshd.user,
            "key": "file:sftp_key",
            "remote_dir": str(outbox),
            "patterns": ["*.csv"],
            "settle_seconds": 0.3,
            "retries": 2,
            **extra,
        }
    }


@pytest.fixture
def secrets(home: Home, sshd) -> Home:
    shutil.copy(sshd.user_key, home.secrets / "sftp_key")
    shutil.copy(sshd.known_hosts, home.secrets / "known_hosts")
    return home


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_first_pull_then_nothing_new_then_a_new_file(secrets, sshd, outbox):
    home = secrets
    (outbox / "payers.csv").write_text(PAYERS)
    (outbox / "notes.txt").write_text("not a delivery")
    config = config_for(source(sshd, outbox))

    first = pull_source(home, config, "drop")
    assert first.ok, first.error
    assert [p.relative_to(home.root).as_posix() for p in first.files] == [
        "inbox/billing/payers.csv"
    ]
    assert first.files[0].read_text() == PAYERS

    again = pull_source(home, config, "drop")
    assert again.ok and again.files == []

    (outbox / "payers_2026-02.csv").write_text(PAYERS_2)
    third = pull_source(home, config, "drop")
    assert [p.name for p in third.files] == ["payers_2026-02.csv"]
    # The same name delivered again with new bytes is a new file, landed beside the first.
    (outbox / "payers.csv").write_text(PAYERS + "P9,Late Payer,other\n")
    os.utime(outbox / "payers.csv", (time.time() + 5, time.time() + 5))
    fourth = pull_source(home, config, "drop")
    assert len(fourth.files) == 1 and fourth.files[0].name.startswith("payers_")
    assert (home.root / "inbox/billing/payers.csv").read_text() == PAYERS
    assert not [p for p in inbox_files(home) if p.name.startswith(".")]


def test_a_file_still_being_written_waits_for_the_next_poll(secrets, sshd, outbox):
    home = secrets
    growing = outbox / "payers.csv"
    growing.write_text("payer_id,payer_name,financial_class\n")
    stop_writing = threading.Event()

    def writer():
        n = 0
        while not stop_writing.is_set():
            with open(growing, "a") as fh:
                fh.write(f"P{n},Payer {n},commercial\n")
            n += 1
            time.sleep(0.05)

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        config = config_for(source(sshd, outbox, settle_seconds=0.5))
        during = pull_source(home, config, "drop")
    finally:
        stop_writing.set()
        thread.join()
    assert during.ok and during.files == []
    assert any("still being written" in n for n in during.notes)
    after = pull_source(home, config, "drop")
    assert len(after.files) == 1
    assert sha(after.files[0]) == sha(growing)


def test_a_dropped_connection_is_retried_and_no_half_file_lands(secrets, sshd, outbox):
    home = secrets
    big = outbox / "payers_big.csv"
    with open(big, "w") as fh:
        fh.write("payer_id,payer_name,financial_class\n")
        for n in range(150_000):
            fh.write(f"P{n:07d},Payer number {n:07d} of a long list,commercial\n")
    assert big.stat().st_size > 6_000_000
    dropped = []

    def progress(message: str) -> None:
        if " MB" in message and not dropped:
            halves = [p for p in inbox_files(home) if p.name.startswith(".")]
            dropped.append((sshd.drop_sessions(), halves))

    result = pull_source(home, config_for(source(sshd, outbox)), "drop", say=progress)
    assert result.ok, result.error
    killed, halves = dropped[0]
    assert killed >= 1 and halves, "the connection was dropped mid-download"
    assert [p.name for p in inbox_files(home)] == ["payers_big.csv"]
    assert sha(result.files[0]) == sha(big)


def test_wrong_credentials_say_so_and_land_nothing(secrets, sshd, outbox, tmp_path):
    home = secrets
    (outbox / "payers.csv").write_text(PAYERS)
    stranger = tmp_path / "stranger"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(stranger)], check=True)
    shutil.copy(stranger, home.secrets / "sftp_key")
    result = pull_source(home, config_for(source(sshd, outbox)), "drop")
    assert not result.ok and "auth refused" in result.error
    assert not result.transient
    assert inbox_files(home) == []
    status = json.loads((home.root / "pull" / "status.json").read_text())
    assert status["drop"]["ok"] is False and "auth refused" in status["drop"]["error"]
    assert status["drop"]["last_success"] is None


def test_sources_test_names_what_is_wrong(secrets, sshd, outbox):
    home = secrets
    good = check(home, config_for(source(sshd, outbox)))
    assert isinstance(good["drop"], list) and "0 file(s)" in " ".join(good["drop"])
    missing = check(home, config_for(source(sshd, outbox / "nope")))
    assert "folder missing" in missing["drop"]
    closed = check(home, config_for(source(sshd, outbox, port=_closed_port())))
    assert "host unreachable" in closed["drop"]
    (home.secrets / "known_hosts").write_text("")
    unknown = check(home, config_for(source(sshd, outbox)))
    assert "host key" in unknown["drop"]


def _closed_port() -> int:
    from tests.pull.servers import free_port

    return free_port()


def test_archive_after_a_verified_download(secrets, sshd, outbox):
    home = secrets
    (outbox / "done").mkdir()
    (outbox / "payers.csv").write_text(PAYERS)
    result = pull_source(
        home, config_for(source(sshd, outbox, archive_dir=str(outbox / "done"))), "drop"
    )
    assert len(result.files) == 1
    assert not (outbox / "payers.csv").exists()
    assert (outbox / "done" / "payers.csv").read_text() == PAYERS


@pytest.mark.parametrize("fault", ["pull.download", "pull.staged", "pull.renamed"])
def test_a_killed_pull_is_completed_once_by_the_next(secrets, sshd, outbox, tmp_path, fault):
    home = secrets
    (outbox / "payers.csv").write_text(PAYERS)
    (outbox / "payers_2.csv").write_text(PAYERS_2)
    config_file = write_config(tmp_path / "clinicops.yaml", source(sshd, outbox))
    assert pull_in_process_killed_at(home, config_file, fault) == -9
    following = pull_source(home, config_for(source(sshd, outbox)), "drop")
    assert following.ok, following.error
    files = inbox_files(home)
    assert [p.name for p in files] == ["payers.csv", "payers_2.csv"]
    assert len(ledger_files(home, "drop")) == 2
    if fault != "pull.renamed":
        return
    # Killed after the rename, before the ledger said done: the file is in place once,
    # and landing takes each file once.
    report = land_inbox(home.root / "inbox", home, config_for({}), pseudonym_key=b"k" * 32)
    assert sorted(f.rows_loaded for f in report.loaded) == [1, 2]
    again = land_inbox(home.root / "inbox", home, config_for({}), pseudonym_key=b"k" * 32)
    assert again.loaded == [] and len(again.duplicates) == 2
