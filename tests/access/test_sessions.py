"""Server-side sessions end when the server says so, sign-in guessing is throttled, and new
passwords and usernames are checked."""

from __future__ import annotations

import time

import pytest

from dashboards.access import auth, sessions
from pipelines.core.config import Config, User
from pipelines.core.home import Home

HOUR = 3600.0


def _user(role: str = "manager", password: str = "x") -> User:
    return User(role=role, password_hash=auth.hash_password(password, rounds=4))


@pytest.fixture
def home(tmp_path) -> Home:
    return Home(tmp_path)


def test_a_session_resumes_until_it_is_ended(home):
    users = {"ann": _user()}
    token = sessions.start(home, "ann", users["ann"])
    assert sessions.resume(home, token, users, HOUR, HOUR).why is None
    sessions.end(home, token)
    assert sessions.resume(home, token, users, HOUR, HOUR) == sessions.Resumed(None, "unknown")
    assert sessions.store_path(home).stat().st_mode & 0o077 == 0
    assert token not in sessions.store_path(home).read_bytes().decode("latin-1")  # hashed


def test_a_forged_or_made_up_id_resumes_nothing(home):
    users = {"ann": _user()}
    sessions.start(home, "ann", users["ann"])
    none_alg = "eyJhbGciOiJub25lIn0.eyJ1c2VybmFtZSI6ImFubiJ9."  # a JWT with alg none
    for token in (none_alg, "ann", "", None):
        assert sessions.resume(home, token, users, HOUR, HOUR).why == "unknown"


def test_idle_and_absolute_limits(home, monkeypatch):
    users = {"ann": _user()}
    token = sessions.start(home, "ann", users["ann"])
    later = time.time() + 100
    monkeypatch.setattr(sessions.time, "time", lambda: later)
    assert sessions.resume(home, token, users, 50, HOUR).why == "idle"
    token = sessions.start(home, "ann", users["ann"])
    for step in range(1, 5):  # active every 40 s, so never idle, but 160 s old
        monkeypatch.setattr(sessions.time, "time", lambda s=step: later + 40 * s)
        verdict = sessions.resume(home, token, users, 50, 130)
    assert verdict.why == "expired"


def test_reset_role_change_and_removal_end_every_session_of_the_user(home):
    users = {"ann": _user(), "bob": _user()}
    first, second = (sessions.start(home, "ann", users["ann"]) for _ in range(2))
    bobs = sessions.start(home, "bob", users["bob"])
    reset = {**users, "ann": _user(password="new password")}  # a new hash
    assert sessions.resume(home, first, reset, HOUR, HOUR).why == "changed"
    assert sessions.end_all(home, "ann") == 1  # the second one
    assert sessions.resume(home, second, users, HOUR, HOUR).why == "unknown"
    demoted = {**users, "bob": User(role=None, password_hash=users["bob"].password_hash)}
    assert sessions.resume(home, bobs, demoted, HOUR, HOUR).why == "changed"
    removed = sessions.start(home, "ann", users["ann"])
    assert sessions.resume(home, removed, {"bob": users["bob"]}, HOUR, HOUR).why == "changed"


def test_a_new_sign_in_rotates_the_id(home):
    users = {"ann": _user()}
    old = sessions.start(home, "ann", users["ann"])
    new = sessions.start(home, "ann", users["ann"], replaces=old)
    assert new != old
    assert sessions.resume(home, old, users, HOUR, HOUR).why == "unknown"
    assert sessions.resume(home, new, users, HOUR, HOUR).why is None


def test_guessing_backs_off_then_locks_the_name_and_the_address(home):
    for attempt in range(1, sessions.LOCK_AFTER + 1):
        assert sessions.wait_seconds(home, "ann", "10.0.0.9") <= 2 ** max(attempt - 3, 0)
        count, locked = sessions.failed(home, "ann", "10.0.0.9")
        assert count == attempt and locked == (attempt == sessions.LOCK_AFTER)
    assert sessions.wait_seconds(home, "ann", "10.0.0.8") > sessions.LOCK_SECONDS - 5  # name
    assert sessions.wait_seconds(home, "bob", "10.0.0.9") > sessions.LOCK_SECONDS - 5  # address
    assert sessions.wait_seconds(home, "bob", "10.0.0.8") == 0
    sessions.succeeded(home, "ann", "10.0.0.9")
    assert sessions.wait_seconds(home, "ann", "10.0.0.9") == 0


def test_weak_passwords_and_marked_up_usernames_are_refused():
    assert "too short" in auth.password_problem("a", "ann")
    assert "easy to guess" in auth.password_problem("password1234", "ann")
    assert "easy to guess" in auth.password_problem("clinicops2026", "ann")
    assert auth.password_problem("correct horse battery staple 7", "ann") is None
    for name in ("<b>x</b>", "[x](http://e.invalid)", "Ann", "a", "ann smith"):
        assert auth.username_problem(name), name
    assert auth.username_problem("dr_lee") is None
    with pytest.raises(ValueError, match="usernames"):
        Config.model_validate({"access": {"users": {"<img>": _user().model_dump()}}})


def test_a_download_is_built_only_for_a_live_session(home, monkeypatch):
    import pandas as pd

    from dashboards.access import AccessDenied, Principal, Role, audit
    from dashboards.app import components

    monkeypatch.setenv("CLINICOPS_HOME", str(home.root))
    monkeypatch.delenv("CLINICOPS_CONFIG", raising=False)
    user = _user()
    auth.save_user(home, "ann", user)
    token = sessions.start(home, "ann", user)
    ann = Principal("ann", Role.MANAGER)
    frame = pd.DataFrame({"x": [1]})
    built = components._audited(components.to_csv, frame, "t", "csv", ann, token, "local")  # noqa: SLF001
    assert built.startswith(b"x")
    sessions.end(home, token)  # signed out meanwhile
    with pytest.raises(AccessDenied):
        components._audited(components.to_csv, frame, "t", "csv", ann, token, "local")  # noqa: SLF001
    records = [r for r in audit.read(home.root) if r["event"] == "download"]
    assert len(records) == 1 and records[0]["client"] == "local"
