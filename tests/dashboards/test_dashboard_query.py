"""The query module reads the published file read-only and follows a publish's swap."""

from __future__ import annotations

import os
from datetime import date

import duckdb
import pytest

from dashboards import query


def publish_fake(home, as_of: str) -> None:
    """Swap in a serving file the way pipelines/publish.py does: write aside, rename."""
    tmp = home / ".serving.tmp"
    with duckdb.connect(str(tmp)) as con:
        con.execute("create schema marts")
        con.execute(
            f"create table marts.publish_info as select date '{as_of}' as as_of_date, "
            "now()::timestamp as published_at"
        )
        con.execute(
            "create table marts.kpi_values (period_grain varchar, period_start date, "
            "scope varchar, scope_id varchar, kpi varchar, value double, numerator double, "
            "denominator double)"
        )
    os.replace(tmp, home / "serving.duckdb")


def test_a_publish_is_seen_by_the_next_query(tmp_path, monkeypatch):
    monkeypatch.setenv(query.HOME_ENV, str(tmp_path))
    publish_fake(tmp_path, "2026-01-04")
    assert query.as_of() == date(2026, 1, 4)
    publish_fake(tmp_path, "2026-02-01")
    assert query.as_of() == date(2026, 2, 1)


def test_the_connection_cannot_write(tmp_path, monkeypatch):
    monkeypatch.setenv(query.HOME_ENV, str(tmp_path))
    publish_fake(tmp_path, "2026-01-04")
    with pytest.raises(duckdb.Error):
        query._read("create table marts.scribble (a int)")


def test_a_home_without_a_serving_file_says_so(tmp_path, monkeypatch):
    monkeypatch.setenv(query.HOME_ENV, str(tmp_path))
    with pytest.raises(query.ServingMissing, match="clinicops run"):
        query.as_of()
