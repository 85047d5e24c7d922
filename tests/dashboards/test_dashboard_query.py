"""The query module reads the published file read-only and follows a publish's swap."""

from __future__ import annotations

import contextvars
import os
from datetime import date

import duckdb
import pytest

from dashboards.data import query


def publish_fake(home, as_of: str) -> None:
    """Swap in a serving file the way pipelines/publish/serving.py does: write aside, rename."""
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


def _in_a_fresh_run(read):
    """Run `read` as a new script run would: signed in as before, nothing pinned yet."""

    def run():
        query._pinned.set(None)
        return read()

    return contextvars.copy_context().run(run)


def test_a_run_reads_the_state_it_pinned_throughout(tmp_path, monkeypatch):
    monkeypatch.setenv(query.HOME_ENV, str(tmp_path))
    publish_fake(tmp_path, "2026-01-04")

    def run_across_a_publish():
        query.pin_published_state()
        before = query.as_of()
        publish_fake(tmp_path, "2026-02-01")  # lands while the page is being drawn
        return before, query.as_of()

    assert _in_a_fresh_run(run_across_a_publish) == (date(2026, 1, 4), date(2026, 1, 4))
    assert _in_a_fresh_run(lambda: (query.pin_published_state(), query.as_of())[1]) == date(
        2026, 2, 1
    )


def test_a_state_swapped_away_before_it_was_opened_is_never_read_under_its_name(
    tmp_path, monkeypatch
):
    monkeypatch.setenv(query.HOME_ENV, str(tmp_path))
    publish_fake(tmp_path, "2026-01-04")
    looked = query._stat()
    publish_fake(tmp_path, "2026-02-01")  # between the look and the open
    with pytest.raises(query.PublishedMeanwhile):
        query._connection(looked)
    # The pin looks again and names the file its connection holds.
    assert _in_a_fresh_run(lambda: query.pin_published_state()) == query._stat()
