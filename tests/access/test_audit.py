"""The audit log: append-only JSON lines chained by hash, written by many writers at once,
with who and what and nothing secret."""

from __future__ import annotations

import json
import threading

import pytest

from dashboards.access import Principal, Role, acting_as, audit

PHYSICIAN = Principal("dr_one", Role.PHYSICIAN, provider_id="PRV0001")


def test_records_name_the_principal_and_chain(tmp_path):
    first = audit.record("login", home=tmp_path, principal=PHYSICIAN, via="password")
    with acting_as(Principal("boss", Role.LOCATION_MANAGER, location_ids=frozenset({"L02"}))):
        second = audit.record("page_view", home=tmp_path, page="cost", filters={"loc": "L02"})
    assert first["prev"] == audit.GENESIS
    assert second["prev"] == first["hash"]
    assert (first["user"], first["role"]) == ("dr_one", "physician")
    assert first["provider_id"] == "PRV0001"
    assert (second["user"], second["location_ids"], second["filters"]) == (
        "boss",
        ["L02"],
        {"loc": "L02"},
    )
    lines = audit.log_path(tmp_path).read_text().splitlines()
    assert [json.loads(line)["event"] for line in lines] == ["login", "page_view"]
    assert audit.verify(tmp_path) == audit.Verdict(True, 2)
    assert audit.log_path(tmp_path).stat().st_mode & 0o077 == 0


def test_nobody_signed_in_is_recorded_as_no_user(tmp_path):
    failed = audit.record("login_failed", home=tmp_path, reason="wrong username or password")
    assert failed["user"] is None and failed["role"] is None


def test_an_edited_or_removed_line_breaks_the_chain(tmp_path):
    for n in range(4):
        audit.record("download", home=tmp_path, principal=PHYSICIAN, table="t", rows=n)
    path = audit.log_path(tmp_path)
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:1] + [lines[1].replace('"rows":1', '"rows":100')] + lines[2:]))
    verdict = audit.verify(tmp_path)
    assert not verdict.ok and verdict.problem.startswith("line 2: edited")
    path.write_text("".join(lines[:1] + lines[2:]))
    verdict = audit.verify(tmp_path)
    assert not verdict.ok and verdict.problem.startswith("line 2: does not follow")


def test_concurrent_writers_keep_one_chain(tmp_path):
    def write(n: int) -> None:
        for i in range(25):
            audit.record("page_view", home=tmp_path, principal=PHYSICIAN, page=f"p{n}", i=i)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert audit.verify(tmp_path) == audit.Verdict(True, 100)


def test_unknown_events_are_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown audit event"):
        audit.record("password_seen", home=tmp_path)
    assert not audit.log_path(tmp_path).exists()


def test_home_comes_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("CLINICOPS_HOME", str(tmp_path))
    audit.record("deck_build", principal=PHYSICIAN, period="2026-10")
    assert audit.read()[0]["period"] == "2026-10"
