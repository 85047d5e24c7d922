"""`clinicops dashboard` and `clinicops demo`: serve the Streamlit app over a home's
serving file, bound to this machine only.

Outside the demo the dashboard starts only with its secrets in the environment (the
cookie key that signs sessions, the pseudonymisation key, the SMTP password when mail is
set up), so a real practice never runs on keys lying beside its data. The demo, which
serves the bundled sample, makes local keys and one user per role instead.
"""

from __future__ import annotations

import errno
import os
import socket
import subprocess
import sys
from importlib.util import find_spec
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from pipelines.core.home import Home
from pipelines.model.build import PROJECT_ROOT

# soft_wrap: a password or a path is never broken over two lines.
console = Console(stderr=True, soft_wrap=True)
HOST = "127.0.0.1"
DEFAULT_PORT = 8501
DEFAULT_HOME = PROJECT_ROOT / "data" / "home"

PortOption = Annotated[int, typer.Option("--port", min=1, max=65535, help="Port on 127.0.0.1.")]
HomeOption = Annotated[
    Path, typer.Option("--home", help="Folder of the practice whose serving file to show.")
]
ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", help="Practice configuration file with the users (access:)."),
]


def hint(command: str) -> str:
    """A command as the user can type it: under `uv run` the `clinicops` script is not on
    PATH, so the hint carries the same prefix (uv sets `UV` in what it runs)."""
    return f"uv run {command}" if os.environ.get("UV") else command


def port_in_use(port: int, host: str = HOST) -> bool:
    """Whether something already listens on host:port (we bind to find out, so a port
    held by a server that does not answer yet counts as busy too)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((host, port))
        except OSError as exc:
            return exc.errno in (errno.EADDRINUSE, errno.EACCES)
    return False


def require_free_port(port: int, what: str) -> None:
    """Fail in a second, before any building, when the port is taken."""
    if port_in_use(port):
        console.print(
            f"[red]error:[/red] port {port} on {HOST} is already in use (another {what} or "
            f"another program); stop it or pass --port with a free port"
        )
        raise typer.Exit(2)


def streamlit_command(port: int) -> list[str]:
    """`streamlit run` without telemetry, file watching or a browser of its own."""
    app = Path(find_spec("dashboards").origin).parent / "app" / "app.py"
    return [
        sys.executable, "-m", "streamlit", "run", str(app),
        "--server.headless", "true",
        "--browser.gatherUsageStats", "false",
        "--server.address", HOST,
        "--server.port", str(port),
        "--server.fileWatcherType", "none",
        "--server.runOnSave", "false",
        "--theme.base", "light",
        "--client.toolbarMode", "viewer",
        # A table's own toolbar would export it in the browser, unseen by the audit log;
        # every download goes through the pages' audited CSV/XLSX buttons instead.
        "--client.disableDataExport", "true",
        # No traceback (install paths, code) reaches a browser, signed in or not.
        "--client.showErrorDetails", "none",
    ]  # fmt: skip


def dashboard(
    home: HomeOption = DEFAULT_HOME, port: PortOption = DEFAULT_PORT, config: ConfigOption = None
) -> None:
    """Serve the dashboards over <home>/serving.duckdb until Ctrl+C (needs
    CLINICOPS_PSEUDONYM_KEY; see docs/access.md)."""
    from dashboards.access.auth import SecretsMissing, require_secrets

    require_free_port(port, "dashboard")
    _published(Home(home.resolve()))
    try:
        require_secrets()
    except SecretsMissing as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    _serve(home, port, config)


def _published(home: Home) -> None:
    if not home.serving.exists():
        console.print(
            f"[red]error:[/red] {home.serving} does not exist; "
            f"run `{hint('clinicops run')} --home {home.root}` first"
        )
        raise typer.Exit(2)


def _serve(home: Path, port: int, config: Path | None) -> None:
    from pipelines.cli.main import _home
    from pipelines.core.config import CONFIG_ENV, ConfigError, load_config

    practice_home = _home(home)
    _published(practice_home)
    if config is not None:
        os.environ[CONFIG_ENV] = str(config.resolve())
    try:
        load_config()  # fail here, not in the browser
    except ConfigError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    os.environ["CLINICOPS_HOME"] = str(practice_home.root)
    console.print(
        f"[green]dashboard:[/green] open http://{HOST}:{port} in a browser "
        f"(serving {practice_home.serving}; Ctrl+C stops it)"
    )
    sys.stderr.flush()
    command = streamlit_command(port)
    os.execv(command[0], command)


def _run_in_child(home: Home, verbose: bool) -> None:
    """`clinicops run` in a process of its own: this one is replaced by Streamlit next, and
    what the pipeline leaves behind (Dagster's and dbt's threads, multiprocessing's
    resource tracker, which warned of "leaked semaphore objects" when its parent was
    replaced) ends with the child instead of leaking into the server."""
    command = [str(Path(sys.executable).with_name("clinicops")), "run", "--home", str(home.root)]
    if verbose:
        command.append("--verbose")
    if subprocess.run(command, check=False).returncode != 0:
        raise typer.Exit(1)


def demo(
    home: HomeOption = DEFAULT_HOME,
    port: PortOption = DEFAULT_PORT,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Show Dagster's and dbt's own lines.")
    ] = False,
) -> None:
    """Run the pipeline on the bundled sample practice, then serve its dashboards with one
    user per role (passwords printed the first time only)."""
    from pipelines.cli.main import _home
    from pipelines.land.pseudonymise import ensure_demo_key

    require_free_port(port, "dashboard")
    practice_home = _home(home)
    ensure_demo_key(practice_home)  # the only place a pseudonymisation key is ever made
    _run_in_child(practice_home, verbose)
    _announce_demo_users(practice_home)
    _serve(home, port, None)


def _announce_demo_users(home: Home) -> None:
    import duckdb

    from dashboards.access.auth import seed_demo_users, users_path

    with duckdb.connect(str(home.serving), read_only=True) as con:
        provider, location = con.sql(
            "select provider_id, home_location_id from marts.dim_providers "
            "where role = 'physician' order by provider_id limit 1"
        ).fetchall()[0]
    passwords = seed_demo_users(home, provider_id=provider, location_id=location)
    if passwords is None:
        console.print(
            f"demo users (admin, manager, location_manager, physician, board) are in "
            f"{users_path(home)}; their passwords were printed when they were created. "
            f"Forgot one? `{hint('clinicops users set')} NAME --home {home.root} --generate` "
            "sets a new one."
        )
        return
    console.print(
        "[bold]Sign in with one of these demo users. The passwords are shown this once "
        "and stored nowhere (only their hashes):[/bold]"
    )
    for role, password in passwords.items():
        binding = {
            "physician": f" (provider {provider})",
            "location_manager": f" (location {location})",
        }.get(role, "")
        console.print(f"  {role:<17} {password}{binding}")


users = typer.Typer(
    help="Dashboard users kept in <home>/secrets/users.yaml (hashes only).",
    no_args_is_help=True,
)


ConfigFileOption = Annotated[
    Path | None,
    typer.Option("--config", help="Practice configuration file with more users (access:)."),
]


def _fail(message: str) -> typer.Exit:
    console.print(f"[red]error:[/red] {message}")
    return typer.Exit(2)


def _users_config(config: Path | None):
    from pipelines.core.config import ConfigError, load_config

    try:
        return load_config(config)
    except ConfigError as exc:
        raise _fail(str(exc)) from None


def _published_ids(home: Home, table: str, column: str) -> set[str]:
    """The ids a binding may name: those of the published serving file."""
    import duckdb

    if not home.serving.exists():
        raise _fail(
            f"{home.serving} does not exist, so a provider or location cannot be checked; "
            f"run `clinicops run --home {home.root}` first"
        )
    with duckdb.connect(str(home.serving), read_only=True) as con:
        return {row[0] for row in con.sql(f"select {column} from marts.{table}").fetchall()}


def _check_binding(home: Home, provider: str | None, locations: list[str]) -> None:
    if provider is not None and provider not in _published_ids(
        home, "dim_providers", "provider_id"
    ):
        raise _fail(f"provider {provider!r} is not in the published data (marts.dim_providers)")
    if locations:
        unknown = sorted(set(locations) - _published_ids(home, "dim_locations", "location_id"))
        if unknown:
            raise _fail(
                f"location(s) {', '.join(map(repr, unknown))} are not in the published data"
            )


@users.command("set")
def set_user(
    name: Annotated[str, typer.Argument(help="Username (lowercase).")],
    home: HomeOption = DEFAULT_HOME,
    role: Annotated[
        str | None,
        typer.Option(
            "--role",
            help="admin, manager, location_manager, physician, board or none; "
            "default: keep the user's role (a password reset).",
        ),
    ] = None,
    provider: Annotated[str | None, typer.Option("--provider", help="Physicians.")] = None,
    location: Annotated[
        list[str] | None, typer.Option("--location", help="Location managers; repeat.")
    ] = None,
    generate: Annotated[
        bool, typer.Option("--generate", help="Make up a password and print it once.")
    ] = False,
    config: ConfigFileOption = None,
) -> None:
    """Add a user or give one a new password (prompted, or generated and printed once).
    Every session of the user ends: a reset or a new role takes effect at once."""
    import secrets

    from pydantic import ValidationError

    from dashboards.access import sessions
    from dashboards.access.auth import (
        hash_password,
        load_users,
        password_problem,
        save_user,
        username_problem,
    )
    from pipelines.cli.main import _home
    from pipelines.core.config import ROLES, User

    name = name.strip().lower()
    if problem := username_problem(name):
        raise _fail(problem)
    practice_home = _home(home)
    known = load_users(_users_config(config), practice_home).get(name)
    if role is None and known is None:
        raise _fail(f"{name} is not a user yet: give --role")
    roles = (*ROLES, "none")
    if role is not None and role not in roles:
        raise _fail(f"--role {role!r}: use one of {', '.join(roles)}")
    if role == "physician" and not provider:
        raise _fail("a physician needs a provider_id: give --provider (their provider id)")
    if role == "location_manager" and not location:
        raise _fail("a location manager needs location_ids: give --location (repeat for more)")
    binding = {"role": None if role == "none" else role, "provider_id": provider}
    binding["location_ids"] = location or []
    if role is None:
        binding = known.model_dump(include={"role", "provider_id", "location_ids"})
    else:
        _check_binding(practice_home, provider, location or [])
    if generate:
        password = secrets.token_urlsafe(12)
    else:
        password = typer.prompt("New password", hide_input=True, confirmation_prompt=True)
        if problem := password_problem(password, name):
            raise _fail(problem)
    try:
        user = User(**binding, password_hash=hash_password(password))
    except ValidationError as exc:
        raise _fail(
            "; ".join(error["msg"].removeprefix("Value error, ") for error in exc.errors())
        ) from None
    save_user(practice_home, name, user)
    ended = sessions.end_all(practice_home, name)
    console.print(
        f"[green]saved:[/green] {name} ({user.role or 'no role'})"
        + (f"; ended {ended} session(s)" if ended else "")
    )
    if generate:
        console.print(f"password (shown this once): {password}")


@users.command("list")
def list_users(home: HomeOption = DEFAULT_HOME, config: ConfigFileOption = None) -> None:
    """Every user, their role and binding, and where they are kept (never a hash)."""
    from dashboards.access.auth import load_users, users_path
    from pipelines.core.config import Config

    cfg = _users_config(config)
    practice_home = Home(home.resolve())
    users_here = set(load_users(Config(), practice_home))  # the home's users file alone
    for name, user in sorted(load_users(cfg, practice_home).items()):
        binding = user.provider_id or ", ".join(user.location_ids) or "-"
        where = users_path(practice_home) if name in users_here else "config file"
        sys.stdout.write(f"{name}\t{user.role or 'none'}\t{binding}\t{where}\n")


@users.command("remove")
def remove_user(
    name: Annotated[str, typer.Argument(help="Username.")],
    home: HomeOption = DEFAULT_HOME,
    config: ConfigFileOption = None,
) -> None:
    """Remove a user from the home's users file and end every session of theirs."""
    from dashboards.access import sessions
    from dashboards.access.auth import delete_user

    name = name.strip().lower()
    practice_home = Home(home.resolve())
    if not delete_user(practice_home, name):
        if name in _users_config(config).access.users:
            raise _fail(f"{name} is defined in the config file: remove them there")
        raise _fail(f"{name} is not a user")
    ended = sessions.end_all(practice_home, name)
    console.print(
        f"[green]removed:[/green] {name}" + (f"; ended {ended} session(s)" if ended else "")
    )


audit = typer.Typer(
    help="The dashboard's audit log (<home>/audit/audit.jsonl).", no_args_is_help=True
)


@audit.command("verify")
def verify_audit(home: HomeOption = DEFAULT_HOME) -> None:
    """Check the log's keyed hash chain; exit 1 naming the first line edited, removed or
    inserted (needs the same CLINICOPS_AUDIT_KEY, or the home's key file, it was written with)."""
    from dashboards.access import audit as audit_log

    verdict = audit_log.verify(home.resolve())
    if not verdict.ok:
        console.print(
            f"[red]broken:[/red] {verdict.problem} ({verdict.records:,} records intact before it)"
        )
        raise typer.Exit(1)
    console.print(
        f"[green]intact:[/green] {verdict.records:,} records, each chained to the one before"
    )
