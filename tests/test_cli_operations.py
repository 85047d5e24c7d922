"""The CLI as an operator meets it: a busy port is refused at once, before a minute of
building; hints can be pasted as printed; `users set` errors read as sentences; a run is
quiet with a line per stage; Great Expectations loads without PySpark (whose pandas-3
warning a run printed although nothing used Spark); `clinicops serve` runs Dagster's
daemon with the schedule and the inbox sensor switched on."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from pipelines.cli.dashboard import hint, port_in_use
from pipelines.cli.progress import dbt_count, stage_of
from tests.conftest import clinicops_command


@contextmanager
def busy_port():
    """A port something listens on, as another dashboard would."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def clinicops(*args: str, env: dict | None = None, timeout: int = 120):
    started = time.monotonic()
    proc = subprocess.run(
        [clinicops_command(), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )
    return proc, time.monotonic() - started


@pytest.mark.parametrize("command", ["demo", "dashboard", "ui"])
def test_a_busy_port_is_refused_before_anything_is_built(command, tmp_path):
    home = tmp_path / "home"
    with busy_port() as port:
        assert port_in_use(port)
        proc, seconds = clinicops(command, "--home", str(home), "--port", str(port))
    assert proc.returncode == 2, proc.stderr
    assert f"port {port}" in proc.stderr and "already in use" in proc.stderr
    assert not (home / "serving.duckdb").exists()  # the demo did not build first
    assert not (home / "lake").exists()
    assert seconds < 60  # the process start only, not a build


def test_a_free_port_is_free():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    assert not port_in_use(port)


def test_hints_carry_uv_run_when_run_under_uv(monkeypatch):
    monkeypatch.setenv("UV", "/usr/bin/uv")
    assert hint("clinicops ui") == "uv run clinicops ui"
    monkeypatch.delenv("UV")
    assert hint("clinicops ui") == "clinicops ui"


def test_dashboard_hint_for_a_missing_serving_file_is_the_uv_command(tmp_path):
    proc, _ = clinicops("dashboard", "--home", str(tmp_path), env={"UV": "/usr/bin/uv"})
    assert proc.returncode == 2
    assert "uv run clinicops run --home" in " ".join(proc.stderr.split())


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--role", "doctor"], "--role 'doctor': use one of admin, manager"),
        (["--role", "physician"], "a physician needs a provider_id: give --provider"),
        (["--role", "location_manager"], "a location manager needs location_ids: give --location"),
    ],
)
def test_users_set_errors_are_sentences(tmp_path, args, message):
    proc, _ = clinicops("users", "set", "bob", "--home", str(tmp_path), *args, "--generate")
    assert proc.returncode == 2
    text = " ".join(proc.stderr.split())
    assert message in text
    assert "validation error" not in text and "pydantic" not in text
    assert not (tmp_path / "secrets" / "users.yaml").exists()


def test_dbt_lines_give_the_build_count_and_steps_their_stage():
    assert dbt_count("12 of 258 OK created sql table model marts.dq_deliveries ..") == (12, 258)
    assert dbt_count(" 7 of 258 PASS not_null_fct_claims_claim_id ....") == (7, 258)
    assert dbt_count("3 of 258 START sql table model staging.x ....") is None
    assert stage_of("land_inbox") == "land"
    assert stage_of("clinicops_dbt_models") == "build"
    assert stage_of("serving") == "publish"
    assert stage_of(None) is None


def test_great_expectations_loads_without_pyspark():
    code = (
        "import sys, warnings\n"
        "warnings.simplefilter('error', FutureWarning)\n"
        "from pipelines.land import quality\n"
        "from pipelines.core.contracts import CONTRACTS\n"
        "quality._context()\n"
        "quality.expectation_suite(CONTRACTS[0])\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'pyspark'))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip() == "[]"
    assert "PySpark" not in proc.stderr


def test_serve_switches_the_schedule_and_the_sensor_on():
    code = (
        "import os\n"
        "os.environ['CLINICOPS_AUTOMATION'] = '{}'\n"
        "from pipelines.orchestrate.definitions import defs\n"
        "print(defs.resolve_schedule_def('weekly_monday_0500').default_status.value,"
        " defs.resolve_sensor_def('inbox_sensor').default_status.value)\n"
    )
    states = {}
    for setting in ("on", ""):
        proc = subprocess.run(
            [sys.executable, "-c", code.format(setting)],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert proc.returncode == 0, proc.stderr[-3000:]
        states[setting] = proc.stdout.split()
    assert states["on"] == ["RUNNING", "RUNNING"]
    assert states[""] == ["STOPPED", "STOPPED"]


def test_serve_runs_the_dagster_daemon(tmp_path, monkeypatch):
    """The daemon of `clinicops serve` beats for the scheduler and the sensor daemons."""
    from dagster import DagsterInstance

    home = tmp_path / "home"
    server = subprocess.Popen(
        [clinicops_command(), "serve", "--home", str(home)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 240
        beating: set[str] = set()
        while time.monotonic() < deadline and not {"SCHEDULER", "SENSOR"} <= beating:
            time.sleep(3)
            assert server.poll() is None, server.stdout.read()
            settings = Path(home / "dagster" / "dagster.yaml")
            if not settings.exists():
                continue
            monkeypatch.setenv("DAGSTER_HOME", str(home / "dagster"))
            with DagsterInstance.get() as instance:
                beating = set(instance.get_daemon_heartbeats())
    finally:
        server.terminate()
        output = server.communicate(timeout=60)[0]
    assert {"SCHEDULER", "SENSOR"} <= beating, output[-3000:]
    assert "scheduling:" in output and "are on" in output
