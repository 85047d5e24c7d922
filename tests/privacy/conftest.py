"""A home holding everything the sample leaves for readers: the serving file and logs of
the session's real `clinicops run` (tests/conftest.py), that run's console output, a
board deck and a weekly digest built by their commands (the digest also as the e-mail a
real SMTP server received), and the dashboards' CSV and XLSX downloads of query-layer
frames. Built once per session, in a folder of its own so no other test sees its files."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from dashboards.data import query
from pipelines.core.home import Home
from tests.conftest import SAMPLE_CORRECTIONS, SAMPLE_INBOX, clinicops_command
from tests.reports.smtp import smtp_server

INBOXES = [SAMPLE_INBOX, SAMPLE_CORRECTIONS]
# Every data-quality table the dashboards offer for download.
DQ_TABLES = query.DQ_TABLES
# The sample delivers its payments as CSV, so it has no X12 835 provider-level adjustments;
# what an 835 leaves in the lake and marts is scanned in tests/land/test_x12.py.
NOT_IN_SAMPLE = {"dq_remittance"}


def _run(*args: str, env: dict[str, str] | None = None) -> None:
    proc = subprocess.run(
        [clinicops_command(), *args],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, **(env or {})},
    )
    if proc.returncode != 0:
        pytest.fail(f"clinicops {args[0]} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}")


def _mailed_digest(home: Home, config: Path) -> bytes:
    with smtp_server() as (inbox, port):
        smtp = {
            "CLINICOPS_SMTP_HOST": "127.0.0.1",
            "CLINICOPS_SMTP_PORT": str(port),
            "CLINICOPS_SMTP_TLS": "none",
        }
        _run("digest", "--home", str(home.root), "--config", str(config), "--send", env=smtp)
    (message,) = inbox.raw
    return message


def _downloads(home: Home) -> None:
    """The bytes the dashboards' CSV and XLSX buttons hand out, for frames of every kind
    the query layer serves (directories, targets, KPIs by provider, data quality)."""
    from dashboards.access import Principal, Role, acting_as
    from dashboards.app import components

    previous = os.environ.get(query.HOME_ENV)
    os.environ[query.HOME_ENV] = str(home.root)
    try:
        with acting_as(Principal("privacy-test", Role.ADMIN)):
            month = query.period_starts("month")[-2]
            frames = {
                "locations": query.locations(),
                "providers": query.providers(),
                "targets": query.targets(),
                "visits_by_provider": query.kpi_breakdown(
                    "completed_visits", "month", month, "provider"
                ),
                **{name: query.dq_table(name) for name in sorted(DQ_TABLES)},
            }
    finally:
        if previous is None:
            os.environ.pop(query.HOME_ENV)
        else:
            os.environ[query.HOME_ENV] = previous
    exports = home.root / "exports"
    exports.mkdir()
    for name, frame in frames.items():
        # a frame the sample cannot fill proves nothing here; one it can must hold rows
        assert frame.empty == (name in NOT_IN_SAMPLE), name
        (exports / f"{name}.csv").write_bytes(components.to_csv(frame))
        (exports / f"{name}.xlsx").write_bytes(components.to_xlsx(frame, name))


@pytest.fixture(scope="session")
def served_home(sample_run, tmp_path_factory) -> Home:
    sample, proc = sample_run
    home = Home(tmp_path_factory.mktemp("privacy_home"))
    shutil.copyfile(sample.serving, home.serving)
    for folder in ("dagster", "dbt"):
        shutil.copytree(sample.root / folder, home.root / folder)
    logs = home.root / "logs"
    logs.mkdir()
    (logs / "clinicops-run.log").write_text(proc.stdout + proc.stderr, encoding="utf-8")

    config = home.root / "clinicops.yaml"
    config.write_text(yaml.safe_dump({"alerts": {"recipients": ["office@example.org"]}}))
    _run("deck", "--home", str(home.root))
    (home.root / "reports" / "digest.eml").write_bytes(_mailed_digest(home, config))
    _downloads(home)
    return home
