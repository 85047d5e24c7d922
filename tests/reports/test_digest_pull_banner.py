"""A pulled source that keeps failing is said at the top of every weekly digest."""

from __future__ import annotations

import json
import shutil

from dashboards.access.principal import Principal, Role, acting_as
from dashboards.reports.digest import build_digest, failing_sources

STATUS = {
    "sftp_billing": {
        "ok": False,
        "last_attempt": "2026-11-23T05:00:00",
        "last_success": "2026-11-16T05:00:00",
        "files_fetched_last": 0,
        "error": "auth refused by 127.0.0.1:2222",
    },
    "openemr": {
        "ok": True,
        "last_attempt": "2026-11-23T05:00:00",
        "last_success": "2026-11-23T05:00:00",
        "files_fetched_last": 6,
        "error": None,
    },
}


def _home_with_status(tmp_path):
    (tmp_path / "pull").mkdir()
    (tmp_path / "pull" / "status.json").write_text(json.dumps(STATUS))
    return tmp_path


def test_only_failing_sources_are_named_with_their_reason_and_last_good_pull(tmp_path):
    assert failing_sources(tmp_path) == []  # a practice that pulls nothing
    lines = failing_sources(_home_with_status(tmp_path))
    assert lines == [
        "sftp_billing: the last pull failed (auth refused by 127.0.0.1:2222); "
        "last good pull 2026-11-16T05:00:00"
    ]


def test_the_digest_opens_with_the_failing_source(sample_home, tmp_path):
    home = _home_with_status(tmp_path)
    shutil.copy(sample_home.serving, home / "serving.duckdb")
    with acting_as(Principal("test:manager", Role.MANAGER)):  # the digest's reader
        digest = build_digest(home / "serving.duckdb", {}, [], "http://127.0.0.1:8501", "Sample")
    assert "Source failing:</b> sftp_billing: the last pull failed" in digest.html
    assert digest.text.splitlines()[2].startswith("SOURCE FAILING: sftp_billing")
    assert "openemr" not in digest.html
