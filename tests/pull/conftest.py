"""A practice home per test and a way to pull through the real command in a process
that can be killed (the crash tests)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from pipelines.core.config import Config
from pipelines.core.home import Home
from pipelines.pull.ledger import PullLedger

PROJECT = Path(__file__).resolve().parents[2]


@pytest.fixture
def home(tmp_path: Path) -> Home:
    practice = Home(tmp_path / "home")
    practice.secrets.mkdir(parents=True)
    return practice


def config_for(sources: dict, **pull) -> Config:
    return Config.model_validate({"pull": {"sources": sources, **pull}})


def write_config(path: Path, sources: dict) -> Path:
    path.write_text(yaml.safe_dump({"pull": {"sources": sources}}, sort_keys=False))
    return path


def pull_in_process_killed_at(home: Home, config_file: Path, fault: str, **env) -> int:
    """`clinicops pull` in a child process that SIGKILLs itself at `fault`; its exit code."""
    environment = {**os.environ, "CLINICOPS_FAULT": fault, **env}
    done = subprocess.run(
        [str(Path(sys.executable).with_name("clinicops")), "pull", "--home", str(home.root),
         "--config", str(config_file)],
        cwd=PROJECT, env=environment, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    return done.returncode


def inbox_files(home: Home) -> list[Path]:
    """Every file in the pulled inbox, hidden ones (half downloads) included."""
    inbox = home.root / "inbox"
    return sorted(p for p in inbox.rglob("*") if p.is_file()) if inbox.exists() else []


def ledger_files(home: Home, source: str) -> list[str]:
    ledger = PullLedger(home)
    try:
        return ledger.files(source)
    finally:
        ledger.close()
