"""`clinicops dashboard` refuses to start without its secrets; `clinicops users` sets a
password without printing anything but a generated one."""

from __future__ import annotations

import subprocess

import bcrypt

from dashboards.access import auth
from pipelines.cli_dashboard import streamlit_command
from pipelines.config import Config
from pipelines.lake import Home
from tests.conftest import clinicops_command


def test_dashboard_refuses_to_start_without_its_secrets(tmp_path):
    (tmp_path / "serving.duckdb").touch()  # only the secrets are missing
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    proc = subprocess.run(
        [clinicops_command(), "dashboard", "--home", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert proc.returncode == 2
    assert "CLINICOPS_COOKIE_KEY" in proc.stderr
    assert "CLINICOPS_PSEUDONYM_KEY" in proc.stderr


def test_tables_export_only_through_the_audited_buttons():
    assert "--client.disableDataExport true" in " ".join(streamlit_command(8501))


def test_users_command_resets_a_password_and_keeps_the_role(tmp_path):
    home = Home(tmp_path)
    auth.seed_demo_users(home, provider_id="PRV0001", location_id="L01")
    proc = subprocess.run(
        [clinicops_command(), "users", "set", "physician", "--home", str(tmp_path), "--generate"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    password = proc.stderr.strip().splitlines()[-1].split(": ")[-1]
    user = auth.load_users(Config(), home)["physician"]
    assert (user.role, user.provider_id) == ("physician", "PRV0001")
    assert bcrypt.checkpw(password.encode(), user.password_hash.encode())


def test_demo_prints_passwords_once_then_says_where_to_reset(sample_home, tmp_path, capsys):
    from pipelines.cli_dashboard import _announce_demo_users

    home = Home(tmp_path)
    home.serving.symlink_to(sample_home.serving)
    _announce_demo_users(home)
    first = capsys.readouterr().err
    users = auth.load_users(Config(), home)
    assert sorted(users) == sorted(auth.DEMO_ROLES)
    rows = [line.split() for line in first.splitlines()]
    lines = {row[0]: row[1] for row in rows if row and row[0] in auth.DEMO_ROLES}
    for role in auth.DEMO_ROLES:
        assert bcrypt.checkpw(lines[role].encode(), users[role].password_hash.encode())
    assert f"(provider {users['physician'].provider_id})" in first
    _announce_demo_users(home)
    again = capsys.readouterr().err
    assert "clinicops users set" in " ".join(again.split())
    assert not any(password in again for password in lines.values())
