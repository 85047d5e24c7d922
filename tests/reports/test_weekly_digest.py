"""The weekly digest, sent by `clinicops digest --send` to a real SMTP server on
localhost: content, links, no personal data, and an alert that fires once, stays quiet
while its KPI is still out, and fires again only after it has come back."""

import os
import re
import subprocess
from datetime import date, timedelta

import duckdb
import polars as pl
import pytest
import yaml

from dashboards.access.principal import Principal, Role, acting_as
from dashboards.reports.digest import AlertRule, SmtpSettings, build_digest
from tests.conftest import PROJECT_ROOT, SAMPLE_INBOX, clinicops_command
from tests.reports.smtp import html_part as _html

DASHBOARD = "http://dashboard.example:8501"


@pytest.fixture
def digest_home(sample_home, tmp_path):
    """A home of its own (its alert state starts empty) over the sample's serving file."""
    home = tmp_path / "home"
    home.mkdir()
    (home / "serving.duckdb").symlink_to(sample_home.serving)
    return home


def _weekly_no_show(serving) -> dict[date, tuple[float, float]]:
    with duckdb.connect(str(serving), read_only=True) as con:
        as_of = con.sql("select as_of_date from marts.publish_info").fetchall()[0][0]
        rows = con.sql(
            "select period_start, value, denominator from marts.kpi_values where "
            "kpi = 'no_show_rate' and period_grain = 'week' and scope = 'practice'"
        ).fetchall()
    return {w: (v, d) for w, v, d in rows if w + timedelta(days=6) <= as_of and v is not None}


def _deliveries_with_rejects(serving) -> list[str]:
    """How the digest names each delivery that had rejected rows ("billing/charges
    (delivery 000008)"), read from the published data-quality table."""
    with duckdb.connect(str(serving), read_only=True) as con:
        rows = con.sql(
            "select source, entity, delivery_id from marts.dq_deliveries where rows_rejected > 0"
        ).fetchall()
    assert rows, "the sample delivers rows that are rejected"
    return [f"{source}/{entity} (delivery {delivery})" for source, entity, delivery in rows]


def _digest(home, config, port, *extra):
    env = {
        **os.environ,
        "CLINICOPS_SMTP_HOST": "127.0.0.1",
        "CLINICOPS_SMTP_PORT": str(port),
        "CLINICOPS_SMTP_TLS": "none",
        "CLINICOPS_DASHBOARD_URL": DASHBOARD,
    }
    proc = subprocess.run(
        [
            clinicops_command(),
            "digest",
            "--home",
            str(home),
            "--config",
            str(config),
            "--send",
            *extra,
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr


def test_alert_fires_once_until_back_in_band(sample_home, digest_home, smtp_server, tmp_path):
    inbox, port = smtp_server
    weeks = _weekly_no_show(sample_home.serving)
    latest = max(weeks)
    calmer = max(w for w, (v, _) in weeks.items() if v < weeks[latest][0])
    threshold = (weeks[latest][0] + weeks[calmer][0]) / 2
    config = tmp_path / "clinicops.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "alerts": {
                    "recipients": ["office.manager@example.org"],
                    "sender": "clinicops@example.org",
                    "rules": [
                        {
                            "kpi": "no_show_rate",
                            "threshold": threshold,
                            "direction": "above",
                            "min_volume": 1,
                        },
                        # Never judged: no week has that many appointments.
                        {
                            "kpi": "late_cancel_rate",
                            "threshold": 0,
                            "direction": "above",
                            "min_volume": 10**9,
                        },
                    ],
                }
            }
        )
    )

    _digest(digest_home, config, port)  # the latest week: above the threshold
    _digest(digest_home, config, port)  # the same week again: already alerted
    _digest(digest_home, config, port, "--week", calmer.isoformat())  # back under it
    _digest(digest_home, config, port)  # out again: a new alert

    assert len(inbox.messages) == 4
    first, second, third, fourth = inbox.messages
    assert first["To"] == "office.manager@example.org"
    assert first["From"] == "clinicops@example.org"
    assert f"week of {latest:%d %b %Y}" in first["Subject"]
    assert "1 new alert," in first["Subject"]
    assert "0 new alerts" in second["Subject"]
    assert "0 new alerts" in third["Subject"]
    assert "1 new alert," in fourth["Subject"]

    html = _html(first)
    new_alerts = html.split("New alerts")[1].split("Still out")[0]
    assert "No-show rate" in new_alerts and "Late-cancel rate" not in new_alerts
    assert f"{weeks[latest][0]:.1%}" in new_alerts
    assert "No-show rate" in _html(second).split("Still out")[1].split("Back in band")[0]
    assert "No-show rate" in _html(third).split("Back in band")[1].split("KPIs out of")[0]
    assert f"{DASHBOARD}/access?period=week&amp;at={latest.isoformat()}" in html
    assert "KPIs out of their band" in html and "Largest moves" in html
    # The first digest reports every delivery with rejected rows as new; later ones none.
    for where in _deliveries_with_rejects(sample_home.serving):
        assert where in html
    assert "No new rejected rows" in _html(second)
    text = first.get_body(("plain",)).get_content()
    assert "No-show rate" in text

    page = digest_home / "reports" / f"digest-{latest.isoformat()}.html"
    assert page.read_text(encoding="utf-8") == _html(fourth).replace("\r\n", "\n").strip()
    state = (digest_home / "reports" / "alert_state.json").read_text()
    assert "no_show_rate/practice/all" in state and "late_cancel_rate" not in state


def test_no_personal_data_in_the_digest(sample_home):
    rules = [
        AlertRule("no_show_rate", threshold=0.0, direction="above"),
        AlertRule("lobby_wait_min_p50", "location", 0.0, "above"),
    ]
    with acting_as(Principal("test:manager", Role.MANAGER)):  # the digest's reader
        digest = build_digest(sample_home.serving, {}, rules, DASHBOARD, "Sample Family Practice")
    body = digest.html + digest.text + digest.subject
    assert not re.search(r"\bP\d{7}\b", body)  # the sample's raw patient ids
    staff = pl.read_csv(SAMPLE_INBOX / "hr" / "staff.csv.gz")["full_name"].to_list()
    assert staff and not [name for name in staff if name in body]
    assert "PRV" not in body  # practice and location scope only


def test_smtp_settings_come_from_the_environment():
    with pytest.raises(ValueError, match="CLINICOPS_SMTP_HOST"):
        SmtpSettings.from_env({})
    settings = SmtpSettings.from_env(
        {
            "CLINICOPS_SMTP_HOST": "mail",
            "CLINICOPS_SMTP_TLS": "ssl",
            "CLINICOPS_SMTP_USER": "u",
            "CLINICOPS_SMTP_PASSWORD": "p",
        }
    )
    assert (settings.port, settings.tls, settings.user, settings.password) == (465, "ssl", "u", "p")
    with pytest.raises(ValueError, match="starttls, ssl or none"):
        SmtpSettings.from_env({"CLINICOPS_SMTP_HOST": "mail", "CLINICOPS_SMTP_TLS": "maybe"})


def test_the_example_config_has_valid_alert_rules():
    from pipelines.core.config import load_config

    config = load_config(PROJECT_ROOT / "clinicops.example.yaml")
    assert [r.kpi for r in config.alerts.rules] == [
        "days_in_ar",
        "no_show_rate",
        "lobby_wait_min_p50",
    ]
    assert config.reports.deck_provider_ids is False


def test_alert_rules_are_validated():
    from pipelines.core.config import Config

    def rules(*rule):
        return {"alerts": {"rules": list(rule)}}

    with pytest.raises(ValueError, match="threshold and direction together"):
        Config.model_validate(rules({"kpi": "no_show_rate", "threshold": 0.1}))
    with pytest.raises(ValueError, match="greater than or equal"):
        Config.model_validate(rules({"kpi": "no_show_rate", "min_volume": -1}))
    with pytest.raises(ValueError, match="not e-mail addresses"):
        Config.model_validate({"alerts": {"recipients": ["office manager"]}})
    with pytest.raises(ValueError, match="Extra inputs"):
        Config.model_validate(rules({"kpi": "no_show_rate", "treshold": 0.1}))
