"""Real servers for the pull tests, each in a temporary folder on a free 127.0.0.1 port.

OpenSSH's sshd, a PostgreSQL cluster and a MariaDB server, as Debian installs them
(shared/STACK_NOTES.md, "Servers for the intake tests"). Each is started once per test
module and stopped, with everything it wrote, when the module ends.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

PG_BIN = Path("/usr/lib/postgresql/15/bin")
SSHD = Path("/usr/sbin/sshd")
MARIADBD = Path("/usr/sbin/mariadbd")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port}")


def require(*paths: Path) -> None:
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        pytest.skip(f"not installed: {', '.join(missing)} (.ci/run installs them)")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass
class Sshd:
    port: int
    root: Path  # the folder sessions start in
    user: str
    user_key: Path  # private key of `user`
    known_hosts: Path
    process: subprocess.Popen

    def drop_sessions(self) -> int:
        """Kill every session process of this sshd (the connection drops); the listener
        stays, so a client can connect again. How many were killed."""
        children = subprocess.run(
            ["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True
        ).stdout.split()
        for pid in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid), signal.SIGKILL)
        return len(children)


def start_sshd(folder: Path) -> Sshd:
    require(SSHD)
    folder.mkdir(parents=True)
    Path("/run/sshd").mkdir(exist_ok=True)
    for name in ("host", "user"):
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(folder / name)], check=True
        )
    (folder / "authorized_keys").write_text((folder / "user.pub").read_text())
    (folder / "authorized_keys").chmod(0o600)
    port = free_port()
    user = (
        os.environ.get("USER")
        or subprocess.run(["id", "-un"], capture_output=True, text=True).stdout.strip()
    )
    config = folder / "sshd_config"
    config.write_text(
        f"ListenAddress 127.0.0.1\nHostKey {folder / 'host'}\nPidFile {folder / 'sshd.pid'}\n"
        f"AuthorizedKeysFile {folder / 'authorized_keys'}\nStrictModes no\nUsePAM no\n"
        "PasswordAuthentication no\nKbdInteractiveAuthentication no\n"
        f"PermitRootLogin prohibit-password\nAllowUsers {user}\n"
        "Subsystem sftp internal-sftp\nLogLevel ERROR\n"
    )
    process = subprocess.Popen(
        [str(SSHD), "-D", "-e", "-f", str(config), "-p", str(port)],
        stderr=subprocess.DEVNULL,
    )
    wait_for_port(port, process)
    host_key = (folder / "host.pub").read_text().split()
    known_hosts = folder / "known_hosts"
    known_hosts.write_text(f"[127.0.0.1]:{port} {host_key[0]} {host_key[1]}\n")
    return Sshd(port, folder, user, folder / "user", known_hosts, process)


@dataclass
class Postgres:
    port: int
    folder: Path
    admin_url: str
    process_owner: str

    @property
    def data(self) -> Path:
        return self.folder / "data"

    def url(self, user: str, database: str = "practice") -> str:
        return f"postgresql+psycopg://{user}@127.0.0.1:{self.port}/{database}"


PG_ADMIN_PASSWORD = "admin-pw"


def start_postgres() -> Postgres:
    """In a folder of its own (pytest's are private to root; the server runs as the
    unprivileged `postgres` user, as initdb insists)."""
    require(PG_BIN / "initdb", PG_BIN / "pg_ctl")
    owner = "postgres"
    folder = Path(tempfile.mkdtemp(prefix="clinicops-pg-"))
    folder.chmod(0o755)
    shutil.chown(folder, owner)
    data = folder / "data"
    pwfile = folder / "pw"
    pwfile.write_text(PG_ADMIN_PASSWORD)
    shutil.chown(pwfile, owner)

    def as_owner(*args: str) -> None:
        subprocess.run(["runuser", "-u", owner, "--", *args], check=True, capture_output=True)

    as_owner(
        str(PG_BIN / "initdb"), "-D", str(data), "-U", "admin", f"--pwfile={pwfile}",
        "--auth-local=trust", "--auth-host=scram-sha-256", "-E", "UTF8",
    )  # fmt: skip
    port = free_port()
    as_owner(
        str(PG_BIN / "pg_ctl"), "-D", str(data), "-l", str(folder / "log"), "-w", "-o",
        f"-k {folder} -h 127.0.0.1 -p {port} -c fsync=off", "start",
    )  # fmt: skip
    return Postgres(
        port,
        folder,
        f"postgresql+psycopg://admin:{PG_ADMIN_PASSWORD}@127.0.0.1:{port}/postgres",
        owner,
    )


def stop_postgres(pg: Postgres) -> None:
    subprocess.run(
        ["runuser", "-u", pg.process_owner, "--", str(PG_BIN / "pg_ctl"), "-D", str(pg.data),
         "-m", "immediate", "stop"],
        capture_output=True,
    )  # fmt: skip
    shutil.rmtree(pg.folder, ignore_errors=True)


@dataclass
class MariaDB:
    port: int
    socket: Path
    process: subprocess.Popen

    def url(self, user: str, database: str) -> str:
        return f"mysql+pymysql://{user}@127.0.0.1:{self.port}/{database}"

    def admin(self, database: str | None = None):
        import pymysql

        return pymysql.connect(
            unix_socket=str(self.socket), user="root", database=database, autocommit=True
        )


def start_mariadb(folder: Path) -> MariaDB:
    require(MARIADBD, Path("/usr/bin/mariadb-install-db"))
    folder.mkdir(parents=True)
    data = folder / "data"
    subprocess.run(
        ["mariadb-install-db", f"--datadir={data}", "--auth-root-authentication-method=normal",
         "--user=root", "--skip-test-db"],
        check=True, capture_output=True,
    )  # fmt: skip
    port = free_port()
    sock = folder / "s"
    process = subprocess.Popen(
        [str(MARIADBD), "--no-defaults", f"--datadir={data}", f"--socket={sock}",
         f"--port={port}", "--bind-address=127.0.0.1", "--user=root",
         f"--pid-file={folder / 'pid'}", "--skip-log-bin", "--innodb-flush-log-at-trx-commit=0"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    wait_for_port(port, process)
    return MariaDB(port, sock, process)
