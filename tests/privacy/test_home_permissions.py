"""The home is its owner's alone: the CLI creates it 0700 with files 0600, and closes an
existing home that other accounts could enter."""

from __future__ import annotations

import os
import stat
import subprocess

from tests.conftest import clinicops_command
from tests.landing.conftest import csv_text, row


def _land(home, inbox) -> subprocess.CompletedProcess:
    return subprocess.run(
        [clinicops_command(), "land", "--home", str(home), "--inbox", str(inbox)],
        capture_output=True,
        text=True,
        timeout=300,
    )


def _inbox(tmp_path):
    inbox = tmp_path / "inbox"
    (inbox / "billing").mkdir(parents=True)
    (inbox / "billing" / "payers.csv").write_text(csv_text([row("payers")]))
    return inbox


def test_a_new_home_is_owner_only_and_so_is_every_file(tmp_path):
    os.umask(0o022)  # a typical login shell's mask: the CLI must not depend on it
    home = tmp_path / "home"
    proc = _land(home, _inbox(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    files = [p for p in home.rglob("*") if p.is_file()]
    folders = [p for p in home.rglob("*") if p.is_dir()]
    assert files and folders
    assert not [p for p in files if p.stat().st_mode & 0o077]
    assert not [p for p in folders if p.stat().st_mode & 0o077]


def test_an_open_home_is_closed_at_start_with_a_warning(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    home.chmod(0o755)
    proc = _land(home, _inbox(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert stat.S_IMODE(home.stat().st_mode) == 0o700
    assert "was open to other accounts (mode 755)" in proc.stderr
