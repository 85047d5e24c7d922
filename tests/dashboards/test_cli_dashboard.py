"""`clinicops dashboard` refuses a home with nothing published, and serves with the
flags the stack notes require (headless, no usage stats, this machine only)."""

from __future__ import annotations

import subprocess

from pipelines.cli.dashboard import streamlit_command
from tests.conftest import clinicops_command


def test_dashboard_without_a_serving_file_says_how_to_make_one(tmp_path):
    proc = subprocess.run(
        [clinicops_command(), "dashboard", "--home", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert "clinicops run" in proc.stderr


def test_streamlit_is_headless_private_and_local():
    command = " ".join(streamlit_command(8600))
    for flag in (
        "--server.headless true",
        "--browser.gatherUsageStats false",
        "--server.address 127.0.0.1",
        "--server.port 8600",
    ):
        assert flag in command
    assert command.split()[4].endswith("dashboards/app/app.py")
