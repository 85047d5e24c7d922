"""The audit log: append-only JSON lines chained by hash, written by many writers at once,
with who and what and nothing secret."""

from __future__ import annotations

import hashlib
import json
import subprocess
import threading

import pytest

from dashboards.access import Principal, Role, acting_as, audit
from tests.conftest import clinicops_command

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


def test_writers_racing_for_a_new_homes_key_all_read_the_one_whole_key(tmp_path):
    """The first records of a new home: every writer must key with the same, complete key
    (one that read the key file while it was being written keyed its record with b"")."""
    for attempt in range(30):
        home = tmp_path / f"home{attempt}"
        start = threading.Barrier(6)
        keys: list[bytes] = []

        def read_key(home=home, start=start, keys=keys) -> None:
            start.wait()
            keys.append(audit.chain_key(home))

        threads = [threading.Thread(target=read_key) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(set(keys)) == 1 and len(keys[0]) == 64, keys
        assert [p.name for p in audit.key_path(home).parent.iterdir()] == [
            audit.key_path(home).name
        ]  # no half-written key left behind


def test_unknown_events_are_refused(tmp_path):
    with pytest.raises(ValueError, match="unknown audit event"):
        audit.record("password_seen", home=tmp_path)
    assert not audit.log_path(tmp_path).exists()


def test_home_comes_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("CLINICOPS_HOME", str(tmp_path))
    audit.record("deck_build", principal=PHYSICIAN, period="2026-10")
    assert audit.read()[0]["period"] == "2026-10"


def test_a_chain_recomputed_without_the_key_fails_verify(tmp_path):
    # Issue 22: 51 records deleted and the chain recomputed passed `verify`.
    for n in range(6):
        audit.record("download", home=tmp_path, principal=PHYSICIAN, table="t", rows=n)
    assert audit.key_path(tmp_path).stat().st_mode & 0o077 == 0
    path = audit.log_path(tmp_path)
    kept = [json.loads(line) for line in path.read_text().splitlines()][3:]
    previous = audit.GENESIS
    lines = []
    for body in kept:  # what an attacker without the key can do: plain SHA-256 again
        body.pop("hash")
        body["prev"] = previous
        canonical = json.dumps(body, sort_keys=True, separators=(",", ":"))
        body["hash"] = previous = hashlib.sha256(canonical.encode()).hexdigest()
        lines.append(json.dumps(body, separators=(",", ":")) + "\n")
    path.write_text("".join(lines))
    verdict = audit.verify(tmp_path)
    assert not verdict.ok and verdict.problem.startswith("line 1: edited")


def test_the_verify_command_exits_1_on_a_broken_chain(tmp_path):
    for n in range(3):
        audit.record("download", home=tmp_path, principal=PHYSICIAN, table="t", rows=n)
    command = [clinicops_command(), "audit", "verify", "--home", str(tmp_path)]
    intact = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert intact.returncode == 0 and "3 records" in intact.stderr
    path = audit.log_path(tmp_path)
    lines = path.read_text().splitlines(keepends=True)
    path.write_text(lines[0] + lines[2])
    broken = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert broken.returncode == 1 and "line 2: does not follow" in broken.stderr


def test_a_refusal_is_recorded_once_per_session(tmp_path, monkeypatch):
    monkeypatch.setenv("CLINICOPS_HOME", str(tmp_path))
    seen: set[str] = set()
    with acting_as(PHYSICIAN):
        for _ in range(3):  # the page re-run by clicks and the cookie component
            audit.record_once("access_denied", seen, page="cost", what="page")
        audit.record_once("access_denied", seen, page="budget", what="page")
    assert [r["page"] for r in audit.read()] == ["budget", "cost"]
