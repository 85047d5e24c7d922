"""The report jobs of a practice home: which board deck and which weekly digest are due,
where their files go (`<home>/reports/`), and the alert state kept there between runs.

`clinicops deck|digest`, the Dagster assets and the dashboard's deck page all go through
here, so a deck or digest made by hand and one made by the schedule are the same files.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from pipelines.core.config import Config
from pipelines.core.home import Home

if TYPE_CHECKING:  # the report modules pull in pptx, Plotly and kaleido
    from dashboards.reports.deck import DeckOptions
    from dashboards.reports.digest import AlertRule, Digest, SmtpSettings
    from dashboards.reports.periods import Period

DASHBOARD_URL_ENV = "CLINICOPS_DASHBOARD_URL"
SMTP_HOST_ENV = "CLINICOPS_SMTP_HOST"


def reports_dir(home: Home) -> Path:
    return home.root / "reports"


def alert_state_file(home: Home) -> Path:
    return reports_dir(home) / "alert_state.json"


def deck_options(config: Config) -> DeckOptions:
    from dashboards.reports.deck import DeckOptions

    return DeckOptions(config.practice.name, config.reports.deck_provider_ids)


def alert_rules(config: Config) -> list[AlertRule]:
    from dashboards.reports.digest import AlertRule

    return [AlertRule(**rule.model_dump()) for rule in config.alerts.rules]


def deck_stem(home: Home, period: Period) -> Path:
    """`<home>/reports/board-<period>`: the deck's files add .pptx and .pdf."""
    return reports_dir(home) / f"board-{period.code}"


def due_deck(home: Home) -> Period | None:
    """The last complete month, when its deck is not out yet.

    A month's deck is built by the first build after the month is complete (the as-of
    date reaches its last day) and never again, so the deck the board received does not
    change underneath it; delete its files to rebuild it."""
    from dashboards.data.serving import published_as_of
    from dashboards.reports.periods import last_complete_month

    period = last_complete_month(published_as_of(home.serving))
    stem = deck_stem(home, period)
    return None if stem.with_name(stem.name + ".pptx").exists() else period


def smtp_from_env(env=os.environ) -> SmtpSettings | None:
    """The SMTP settings when the environment names a host; None means write, not send."""
    from dashboards.reports.digest import SmtpSettings

    return SmtpSettings.from_env(env) if env.get(SMTP_HOST_ENV) else None


def newest_complete_week(home: Home) -> date | None:
    """None while the published data holds no complete week yet."""
    from dashboards.data.serving import read_serving
    from dashboards.reports.digest import newest_complete_week as newest

    return newest(read_serving(home.serving, grains=("week",)))


def digested_week(home: Home) -> date | None:
    """The week of the last digest written (and sent, when sending was asked for)."""
    from dashboards.reports.digest import load_state

    last = load_state(alert_state_file(home)).get("last_week")
    return date.fromisoformat(last) if last else None


@dataclass(frozen=True)
class DigestOutcome:
    digest: Digest
    page: Path
    recipients: int  # 0 when it was written but not sent


def write_digest(
    home: Home,
    config: Config,
    week: date | None = None,
    smtp: SmtpSettings | None = None,
    env=os.environ,
) -> DigestOutcome:
    """Build the digest of `week` (default the newest complete one), write it as
    `<home>/reports/digest-<week>.html`, send it when `smtp` is given, then keep the
    alert state, so that only a digest that went out counts as having alerted."""
    from dashboards.reports.digest import build_digest, load_state, save_state, send_digest

    state_file = alert_state_file(home)
    digest = build_digest(
        home.serving,
        load_state(state_file),
        alert_rules(config),
        env.get(DASHBOARD_URL_ENV) or config.alerts.dashboard_url,
        config.practice.name,
        week,
    )
    folder = reports_dir(home)
    folder.mkdir(parents=True, exist_ok=True)
    page = folder / f"digest-{digest.week.isoformat()}.html"
    page.write_text(digest.html, encoding="utf-8")
    if smtp:
        send_digest(digest, smtp, config.alerts.sender, config.alerts.recipients)
    save_state(state_file, digest.state)
    return DigestOutcome(digest, page, len(config.alerts.recipients) if smtp else 0)
