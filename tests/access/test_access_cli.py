"""`clinicops dashboard` refuses to start without its secrets; `clinicops users` sets a
password without printing anything but a generated one."""

from __future__ import annotations

import subprocess

import bcrypt
import duckdb
import pytest

from dashboards.access import auth, sessions
from pipelines.cli.dashboard import streamlit_command
from pipelines.core.config import Config
from pipelines.core.home import Home
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
    assert "CLINICOPS_PSEUDONYM_KEY" in proc.stderr


def test_tables_export_only_through_the_audited_buttons():
    assert "--client.disableDataExport true" in " ".join(streamlit_command(8501))


def test_no_traceback_reaches_a_browser():
    assert "--client.showErrorDetails none" in " ".join(streamlit_command(8501))


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
    from pipelines.cli.dashboard import _announce_demo_users

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


def _clinicops(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [clinicops_command(), *args], input=stdin, capture_output=True, text=True, timeout=120
    )


@pytest.fixture
def published(tmp_path) -> Home:
    """A home whose serving file names providers PRV0001-2 and locations L01-2."""
    home = Home(tmp_path / "home")
    home.root.mkdir(mode=0o700)
    with duckdb.connect(str(home.serving)) as con:
        con.execute("create schema marts")
        con.execute(
            "create table marts.dim_providers as "
            "select * from (values ('PRV0001'), ('PRV0002')) t(provider_id)"
        )
        con.execute(
            "create table marts.dim_locations as "
            "select * from (values ('L01'), ('L02')) t(location_id)"
        )
    return home


def test_users_set_checks_the_binding_name_and_password(published):
    root = str(published.root)
    ghost = _clinicops("users", "set", "dr_x", "--home", root, "--role", "physician",
                       "--provider", "PRV9999", "--generate")  # fmt: skip
    assert ghost.returncode == 2 and "'PRV9999' is not in the published data" in ghost.stderr
    markup = _clinicops("users", "set", "<img src=x>", "--home", root, "--role", "board",
                        "--generate")  # fmt: skip
    assert markup.returncode == 2 and "a username is 2 to 64 characters" in markup.stderr
    weak = _clinicops("users", "set", "ann", "--home", root, "--role", "board",
                      stdin="a\na\n")  # fmt: skip
    assert weak.returncode == 2 and "too short" in weak.stderr
    unbound = _clinicops("users", "set", "dr_y", "--home", root, "--role", "physician",
                         "--generate")  # fmt: skip
    assert unbound.returncode == 2 and "a physician needs a provider_id" in unbound.stderr
    assert "Traceback" not in unbound.stderr and "pydantic" not in unbound.stderr
    assert not auth.users_path(published).exists()


def test_users_list_remove_and_every_session_ends(published):
    root = str(published.root)
    made = _clinicops("users", "set", "dr_a", "--home", root, "--role", "physician",
                      "--provider", "PRV0001", "--generate")  # fmt: skip
    assert made.returncode == 0, made.stderr
    user = auth.load_users(Config(), published)["dr_a"]
    token = sessions.start(published, "dr_a", user)
    reset = _clinicops("users", "set", "dr_a", "--home", root, "--generate")
    assert reset.returncode == 0 and "ended 1 session(s)" in reset.stderr
    users = auth.load_users(Config(), published)
    assert sessions.resume(published, token, users, 3600, 3600).why == "unknown"
    listed = _clinicops("users", "list", "--home", root)
    assert listed.stdout.split("\t")[:3] == ["dr_a", "physician", "PRV0001"]
    assert "$2b$" not in listed.stdout
    token = sessions.start(published, "dr_a", users["dr_a"])
    removed = _clinicops("users", "remove", "dr_a", "--home", root)
    assert removed.returncode == 0 and "ended 1 session(s)" in removed.stderr
    assert "dr_a" not in auth.load_users(Config(), published)
    assert sessions.resume(published, token, {}, 3600, 3600).why == "unknown"
    again = _clinicops("users", "remove", "dr_a", "--home", root)
    assert again.returncode == 2 and "is not a user" in again.stderr
