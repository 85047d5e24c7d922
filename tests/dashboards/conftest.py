"""Dashboards read `$CLINICOPS_HOME/serving.duckdb`; these fixtures point that at the
session's sample home, built once by the real `clinicops run` (tests/conftest.py), and
bind an admin for reads made in the test's own thread (tests/access tests every role)."""

from __future__ import annotations

import os

import pytest

from dashboards.access import Principal, Role, acting_as
from pipelines.core.home import Home


@pytest.fixture(autouse=True)
def admin():
    with acting_as(Principal("test:admin", Role.ADMIN)) as principal:
        yield principal


@pytest.fixture(scope="session")
def dashboard_home(sample_home: Home) -> Home:
    previous = os.environ.get("CLINICOPS_HOME")
    os.environ["CLINICOPS_HOME"] = str(sample_home.root)
    yield sample_home
    if previous is None:
        os.environ.pop("CLINICOPS_HOME", None)
    else:
        os.environ["CLINICOPS_HOME"] = previous
