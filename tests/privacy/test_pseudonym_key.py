"""No pseudonymisation key is made up outside the demo: `land` and `run` without
$CLINICOPS_PSEUDONYM_KEY stop with the one-line fix and leave no key behind."""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.conftest import SAMPLE_INBOX, clinicops_command


@pytest.mark.parametrize("command", ["land", "run"])
def test_landing_without_a_key_stops_with_the_fix(tmp_path, command):
    env = {k: v for k, v in os.environ.items() if k != "CLINICOPS_PSEUDONYM_KEY"}
    home = tmp_path / "home"
    proc = subprocess.run(
        [clinicops_command(), command, "--home", str(home), "--inbox", str(SAMPLE_INBOX)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert proc.returncode == 2, proc.stderr[-2000:]
    message = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(message) == 1 and "CLINICOPS_PSEUDONYM_KEY is not set" in message[0]
    assert "export CLINICOPS_PSEUDONYM_KEY=" in message[0]
    assert not (home / "secrets" / "pseudonym.key").exists()
    assert not (home / "lake" / "raw").exists()  # nothing landed
