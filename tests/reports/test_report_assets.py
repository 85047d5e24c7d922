"""The report assets in the scheduled job: the weekly digest materialised in-process on
the sample writes its page and mails it to a real SMTP server, once per week, with an
alert that fires once and not again; the deck is due once per completed month."""

import shutil
from datetime import date, timedelta

import duckdb
import yaml
from dagster import AssetKey, materialize

from dashboards.reports import jobs as report_jobs
from pipelines.core.home import Home
from pipelines.orchestrate.defs.reports import weekly_digest
from pipelines.orchestrate.defs.resources import ClinicopsResource
from tests.reports.smtp import html_part

DASHBOARD = "http://dashboard.example:8501"
DIGEST_OP = "reports__weekly_digest"


def _metadata(result) -> dict:
    (event,) = result.get_asset_materialization_events()
    return {k: v.value for k, v in event.materialization.metadata.items()}


def test_the_scheduled_job_builds_both_reports_after_serving():
    from pipelines.orchestrate.definitions import defs

    schedule = defs.resolve_schedule_def("weekly_monday_0500")
    job = defs.resolve_job_def(schedule.job_name)
    graph = defs.resolve_asset_graph()
    for key in (AssetKey(["reports", "board_deck"]), AssetKey(["reports", "weekly_digest"])):
        assert key in job.asset_layer.selected_asset_keys, key
        assert graph.get(key).parent_keys == {AssetKey(["serving"])}, key


def test_digest_asset_writes_sends_and_alerts_once(sample_home, smtp_server, tmp_path, monkeypatch):
    inbox, port = smtp_server
    home = Home(tmp_path / "home")
    home.root.mkdir()
    home.serving.symlink_to(sample_home.serving)  # its own reports folder and alert state
    config = tmp_path / "clinicops.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "alerts": {
                    "recipients": ["office.manager@example.org"],
                    "sender": "clinicops@example.org",
                    # Any no-show at all: out every week, so only the state keeps it quiet.
                    "rules": [{"kpi": "no_show_rate", "threshold": 0.0, "direction": "above"}],
                }
            }
        )
    )
    for name, value in {
        "CLINICOPS_SMTP_HOST": "127.0.0.1",
        "CLINICOPS_SMTP_PORT": str(port),
        "CLINICOPS_SMTP_TLS": "none",
        "CLINICOPS_DASHBOARD_URL": DASHBOARD,
    }.items():
        monkeypatch.setenv(name, value)
    resources = {
        "clinicops": ClinicopsResource(home=str(home.root), inbox="", config_path=str(config))
    }

    first = materialize([weekly_digest], resources=resources)
    again = materialize([weekly_digest], resources=resources)  # the same week: already out
    week = _metadata(first)["week"]
    resent = materialize(
        [weekly_digest],
        resources=resources,
        run_config={"ops": {DIGEST_OP: {"config": {"week": week}}}},
    )

    assert first.success and again.success and resent.success
    assert week == _newest_complete_week(home).isoformat()
    meta = _metadata(first)
    assert meta["sent"] is True and meta["recipients"] == 1 and meta["new_alerts"] == 1
    assert _metadata(again) == {"week": week, "sent": False}
    assert _metadata(resent)["new_alerts"] == 0 and _metadata(resent)["still_out"] == 1

    assert len(inbox.messages) == 2
    sent, second = inbox.messages
    assert sent["To"] == "office.manager@example.org"
    assert f"week of {date.fromisoformat(week):%d %b %Y}" in sent["Subject"]
    assert "1 new alert," in sent["Subject"] and "0 new alerts" in second["Subject"]
    new_alerts = html_part(sent).split("New alerts")[1].split("Still out")[0]
    assert "No-show rate" in new_alerts
    assert "No-show rate" in html_part(second).split("Still out")[1].split("Back in band")[0]
    assert f"{DASHBOARD}/access?period=week&amp;at={week}" in html_part(sent)

    page = home.root / "reports" / f"digest-{week}.html"
    assert page.read_text(encoding="utf-8") == html_part(second).replace("\r\n", "\n").strip()
    assert report_jobs.digested_week(home) == date.fromisoformat(week)


def test_digest_asset_without_smtp_writes_the_page_only(sample_home, tmp_path, monkeypatch):
    monkeypatch.delenv("CLINICOPS_SMTP_HOST", raising=False)
    home = Home(tmp_path / "home")
    home.root.mkdir()
    home.serving.symlink_to(sample_home.serving)
    resources = {"clinicops": ClinicopsResource(home=str(home.root), inbox="")}
    result = materialize([weekly_digest], resources=resources)
    meta = _metadata(result)
    assert meta["sent"] is False and meta["recipients"] == 0
    assert (home.root / "reports" / f"digest-{meta['week']}.html").stat().st_size > 1000


def test_digest_asset_skips_while_no_week_is_complete(sample_home, tmp_path, monkeypatch):
    monkeypatch.delenv("CLINICOPS_SMTP_HOST", raising=False)
    home = Home(tmp_path / "home")
    home.root.mkdir()
    shutil.copy(sample_home.serving, home.serving)
    with duckdb.connect(str(home.serving), read_only=True) as con:
        (first_week,) = con.sql(
            "select min(period_start) from marts.kpi_values where period_grain = 'week'"
        ).fetchall()[0]
    _set_as_of(home, first_week + timedelta(days=2))  # a practice's first Wednesday
    resources = {"clinicops": ClinicopsResource(home=str(home.root), inbox="")}
    result = materialize([weekly_digest], resources=resources)
    assert result.success
    assert _metadata(result) == {"sent": False}
    assert not (home.root / "reports").exists() or not any((home.root / "reports").iterdir())


def test_deck_is_due_once_per_completed_month(sample_home, tmp_path):
    home = Home(tmp_path / "home")
    home.root.mkdir()
    shutil.copy(sample_home.serving, home.serving)  # its as-of date moves below
    as_of = _as_of(home)
    assert as_of == date(2026, 11, 22)  # the sample's: October is the last complete month
    due = report_jobs.due_deck(home)
    assert due is not None and due.code == "2026-10"
    stem = report_jobs.deck_stem(home, due)
    stem.parent.mkdir()
    stem.with_name(stem.name + ".pptx").write_bytes(b"built")
    assert report_jobs.due_deck(home) is None  # the weeks after: October's deck is out

    _set_as_of(home, date(2026, 11, 30))  # the build after November is complete
    due = report_jobs.due_deck(home)
    assert due is not None and due.code == "2026-11"


def _as_of(home: Home) -> date:
    with duckdb.connect(str(home.serving), read_only=True) as con:
        return con.sql("select as_of_date from marts.publish_info").fetchall()[0][0]


def _set_as_of(home: Home, day: date) -> None:
    with duckdb.connect(str(home.serving)) as con:
        con.execute("update marts.publish_info set as_of_date = ?", [day])


def _newest_complete_week(home: Home) -> date:
    with duckdb.connect(str(home.serving), read_only=True) as con:
        return con.sql(
            "select max(period_start) from marts.kpi_values where period_grain = 'week' "
            "and period_start + 6 <= (select as_of_date from marts.publish_info)"
        ).fetchall()[0][0]
