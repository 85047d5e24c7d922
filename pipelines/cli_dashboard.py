"""`clinicops dashboard` and `clinicops demo`: serve the Streamlit app over a home's
serving file, bound to this machine only."""

from __future__ import annotations

import os
import sys
from importlib.util import find_spec
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from pipelines.build import PROJECT_ROOT
from pipelines.lake import Home

console = Console(stderr=True)
HOST = "127.0.0.1"
DEFAULT_PORT = 8501
DEFAULT_HOME = PROJECT_ROOT / "data" / "home"

PortOption = Annotated[int, typer.Option("--port", min=1, max=65535, help="Port on 127.0.0.1.")]
HomeOption = Annotated[
    Path, typer.Option("--home", help="Folder of the practice whose serving file to show.")
]


def streamlit_command(port: int) -> list[str]:
    """`streamlit run` without telemetry, file watching or a browser of its own."""
    app = Path(find_spec("dashboards").origin).parent / "app.py"
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
    ]  # fmt: skip


def dashboard(home: HomeOption = DEFAULT_HOME, port: PortOption = DEFAULT_PORT) -> None:
    """Serve the dashboards over <home>/serving.duckdb until Ctrl+C."""
    practice_home = Home(home.resolve())
    if not practice_home.serving.exists():
        console.print(
            f"[red]error:[/red] {practice_home.serving} does not exist; "
            f"run `clinicops run --home {practice_home.root}` first"
        )
        raise typer.Exit(2)
    os.environ["CLINICOPS_HOME"] = str(practice_home.root)
    console.print(
        f"[green]dashboard:[/green] open http://{HOST}:{port} in a browser "
        f"(serving {practice_home.serving}; Ctrl+C stops it)"
    )
    sys.stderr.flush()
    command = streamlit_command(port)
    os.execv(command[0], command)


def demo(home: HomeOption = DEFAULT_HOME, port: PortOption = DEFAULT_PORT) -> None:
    """Run the pipeline on the bundled sample practice, then serve its dashboards."""
    from pipelines.cli import run

    run(home=home, inbox=None, config=None, as_of=None)
    dashboard(home=home, port=port)
