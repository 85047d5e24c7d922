"""`clinicops pull` and `clinicops sources test` as a person runs them."""

from __future__ import annotations

import subprocess

from tests.conftest import clinicops_command
from tests.pull.conftest import write_config
from tests.pull.servers import free_port


def clinicops(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([clinicops_command(), *args], capture_output=True, text=True, timeout=300)


def test_sources_test_and_pull_say_what_is_wrong_and_exit_non_zero(tmp_path):
    port = free_port()  # nothing listens there
    config = write_config(
        tmp_path / "c.yaml",
        {
            "drop": {"kind": "sftp", "host": "127.0.0.1", "port": port, "user": "u",
                     "password": "env:CLINICOPS_TEST_SFTP_PW", "retries": 0},
        },
    )  # fmt: skip
    home = tmp_path / "home"
    (home / "secrets").mkdir(parents=True)
    (home / "secrets" / "known_hosts").write_text("")
    env_args = ("--home", str(home), "--config", str(config))

    tested = clinicops("sources", "test", *env_args)
    assert tested.returncode == 1
    assert "FAIL drop: drop: the secret env:CLINICOPS_TEST_SFTP_PW is not set" in tested.stderr

    pulled = clinicops("pull", *env_args)
    assert pulled.returncode == 1
    assert "failed drop (sftp): 0 file(s) fetched" in pulled.stderr

    unknown = clinicops("pull", "--source", "nope", *env_args)
    assert unknown.returncode == 2 and "no pull source named 'nope'" in unknown.stderr
