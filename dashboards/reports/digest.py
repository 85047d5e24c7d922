"""The weekly digest for the office manager: KPIs out of their band, the alerts of the
practice's rules, the largest moves from the week before, new data-quality problems,
each with a link into the dashboard. One HTML page, sent as an e-mail and kept as a file.

It carries practice and location aggregates, KPI names, delivery ids and counts only:
no patient, no staff member, and no rejected row's content (only where rows were
rejected and how many).

Alerts fire once: the state file remembers which are out, and a rule alerts again only
after its KPI has come back inside the line. A week whose volume is below the rule's
minimum, or whose row is partial (not complete), leaves the state as it was.

Whether a KPI is in or out of its band is the row's one status (marts.kpi_status), the
same the scorecard and the deck show; labels and units come from the KPI catalog.
"""

from __future__ import annotations

import html
import json
import os
import smtplib
import ssl
from dataclasses import dataclass, field
from datetime import date, timedelta
from email.message import EmailMessage
from pathlib import Path

from dashboards.data.serving import Serving, Status, read_serving
from dashboards.reports.figures import Cell
from dashboards.reports.formatting import band_text, change, value_text

TOP_MOVES = 6
_PAGES = {  # KPI name prefix -> dashboard page (dashboards/app/app.py url paths)
    "access": (
        "no_show",
        "late_cancel",
        "new_patient_lead",
        "lobby_wait",
        "wait_for",
        "cycle_time",
        "schedule_utilization",
        "third_next",
    ),
    "productivity": ("completed_visits", "work_rvus", "visits_per", "new_patient_share"),
    "revenue": (
        "gross_charges",
        "payments",
        "ar_",
        "days_in_ar",
        "initial_denial",
        "net_collection",
        "charge_lag",
        "payer_mix",
    ),
    "cost": (
        "labor_cost",
        "non_labor",
        "operating",
        "cost_per",
        "support_staff",
        "overtime",
        "staff_turnover",
    ),
}


@dataclass(frozen=True)
class AlertRule:
    kpi: str
    scope: str = "practice"
    threshold: float | None = None
    direction: str | None = None  # above | below
    min_volume: float = 0


@dataclass(frozen=True)
class Finding:
    kpi: str
    scope_id: str
    value: float | None
    text: str  # the value as the reader sees it
    detail: str  # band, threshold or change, in words
    link: str
    where: str = ""  # the location's name, or "" for the whole practice


@dataclass
class Digest:
    week: date
    partial: bool  # the week ends after the as-of date: its counts are not final
    subject: str
    html: str
    text: str
    fired: list[Finding]
    still_out: list[Finding]
    cleared: list[Finding]
    out_of_band: list[Finding]
    moves: list[Finding]
    new_problems: list[str]
    state: dict = field(repr=False)
    # Pulled sources whose last pull failed (<home>/pull/status.json): a banner on top,
    # so a source that keeps failing is seen every week until it is fixed.
    failing_sources: list[str] = field(default_factory=list)


def nearest_monday(day: date) -> date:
    """The Monday of `day`'s week, or the next one from Friday on (the closer of the two)."""
    back = day - timedelta(days=day.weekday())
    return back if day.weekday() <= 3 else back + timedelta(days=7)


def require_monday(week: date) -> date:
    """Weeks are published Monday to Sunday: any other day is refused, not rounded."""
    if week.weekday() != 0:
        raise ValueError(
            f"{week:%Y-%m-%d} is a {week:%A}; a week starts on a Monday: "
            f"use {nearest_monday(week):%Y-%m-%d}"
        )
    return week


def newest_complete_week(serving: Serving) -> date | None:
    """None while the data holds no complete week yet (a practice's first days)."""
    weeks = serving.kpis.filter(serving.kpis["period_grain"] == "week")["period_start"]
    complete = [w for w in weeks.unique().to_list() if w + timedelta(days=6) <= serving.as_of]
    return max(complete, default=None)


def last_complete_week(serving: Serving) -> date:
    week = newest_complete_week(serving)
    if week is None:
        raise ValueError(f"no complete week up to the as-of date {serving.as_of}")
    return week


def load_state(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def save_state(path: Path, state: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(state, indent=2, sort_keys=True), encoding="utf-8")
    os.replace(tmp, path)


def build_digest(
    serving_path: Path,
    state: dict,
    rules: list[AlertRule],
    dashboard_url: str,
    practice_name: str,
    week: date | None = None,
) -> Digest:
    serving = read_serving(serving_path, grains=("week",))
    week = require_monday(week) if week else last_complete_week(serving)
    # A week still running has partial counts: it is labelled so, and it is never
    # compared with a whole week ("largest moves" reads complete weeks only).
    partial = week + timedelta(days=6) > serving.as_of
    rows = {
        (r[0], r[1], r[2], r[3]): (r[4], r[5], r[6])
        for r in serving.kpis.select(
            "scope", "scope_id", "kpi", "period_start", "value", "numerator", "denominator"
        ).iter_rows()
    }
    links = _Links(dashboard_url.rstrip("/"), week)
    alerts = dict(state.get("alerts", {}))
    fired, still_out, cleared = [], [], []
    catalog, names = serving.catalog, serving.names
    for rule in rules:
        if not catalog.knows(rule.kpi):
            raise ValueError(f"alert rule: {rule.kpi!r} is not a published KPI")
        unit = catalog.unit(rule.kpi)
        scope_ids = sorted({k[1] for k in rows if k[0] == rule.scope and k[2] == rule.kpi})
        for scope_id in scope_ids:
            row = rows.get((rule.scope, scope_id, rule.kpi, week))
            if row is None or row[0] is None:
                continue
            judged = serving.statuses.get(rule.kpi, "week", week, rule.scope, scope_id)
            if judged.status == "partial":  # never alerted on (KPI_SPEC.md "Complete rows")
                continue
            volume = _volume(rows, rule, scope_id, week, row)
            if volume is not None and volume < rule.min_volume:
                continue
            breached, line = _breached(rule, judged, unit, row[0])
            key = f"{rule.kpi}/{rule.scope}/{scope_id}"
            finding = Finding(
                rule.kpi,
                scope_id,
                row[0],
                value_text(row[0], unit),
                line,
                links.kpi(rule.kpi, scope_id if rule.scope == "location" else None),
                names.location(scope_id) if rule.scope == "location" else "",
            )
            if breached and key not in alerts:
                alerts[key] = {"since": week.isoformat(), "value": row[0]}
                fired.append(finding)
            elif breached:
                still_out.append(finding)
            elif key in alerts:
                del alerts[key]
                cleared.append(finding)

    out_of_band = _out_of_band(serving, rows, week, links)
    moves = _moves(serving, rows, week, links)
    last_seen = state.get("last_delivery_id", "")
    new_problems = _new_problems(serving, last_seen)
    new_state = {
        "alerts": alerts,
        "last_week": week.isoformat(),
        "last_delivery_id": max(serving.deliveries["delivery_id"].to_list(), default=last_seen),
    }
    subject = (
        f"{practice_name}: week of {week:%d %b %Y}"
        + (f" (partial: data up to {serving.as_of:%d %b})" if partial else "")
        + f" — {len(fired)} new alert"
        f"{'' if len(fired) == 1 else 's'}, {len(out_of_band)} KPIs out of band"
    )
    digest = Digest(
        week,
        partial,
        subject,
        "",
        "",
        fired,
        still_out,
        cleared,
        out_of_band,
        moves,
        new_problems,
        new_state,
    )
    digest.failing_sources = failing_sources(serving_path.parent)
    digest.html = _html(digest, practice_name, serving.as_of, links, serving.catalog.label)
    digest.text = _text(digest, links, serving.catalog.label)
    return digest


def _volume(rows, rule: AlertRule, scope_id: str, week: date, row) -> float | None:
    """The count the week's value stands on: its denominator, or its count, or for a
    median the completed visits it was taken over."""
    value, numerator, denominator = row
    if denominator is not None:
        return denominator
    if numerator is not None:
        return numerator
    visits = rows.get((rule.scope, scope_id, "completed_visits", week))
    return visits[0] if visits else None


def _breached(rule: AlertRule, judged: Status, unit: str, value: float) -> tuple[bool, str]:
    """A rule with its own threshold is the practice's line; without one, the KPI row's
    one status decides (out_of_band)."""
    if rule.threshold is not None:
        side = "above" if rule.direction == "above" else "below"
        breached = value > rule.threshold if side == "above" else value < rule.threshold
        return breached, f"alert {side} {value_text(rule.threshold, unit)}"
    if judged.low is None and judged.high is None:
        raise ValueError(f"alert rule on {rule.kpi}: no threshold and no target band")
    return judged.status == "out_of_band", f"target {_band(judged, unit)}"


def _band(judged: Status, unit: str) -> str:
    return band_text(judged.low, judged.high, unit)


def _out_of_band(serving: Serving, rows, week: date, links) -> list[Finding]:
    """Practice rows whose status this week is out_of_band, worst first (band_gap)."""
    found = []
    for (scope, _, kpi, start), (value, _, _) in rows.items():
        if scope != "practice" or start != week:
            continue
        judged = serving.statuses.get(kpi, "week", week)
        if judged.status != "out_of_band":
            continue
        unit = serving.catalog.unit(kpi)
        finding = Finding(
            kpi,
            "all",
            value,
            value_text(value, unit),
            f"target {_band(judged, unit)}",
            links.kpi(kpi),
        )
        found.append((judged.gap or 0.0, finding))
    return [f for _, f in sorted(found, key=lambda item: -item[0])]


def _moves(serving: Serving, rows, week: date, links) -> list[Finding]:
    """The largest relative changes from the week before, on complete rows only: a partial
    week (payroll only to the 14th) is not a move."""
    prior = week - timedelta(days=7)
    found = []
    for (scope, _, kpi, start), (value, num, den) in rows.items():
        if scope != "practice" or start != week:
            continue
        before = rows.get(("practice", "all", kpi, prior))
        if before is None or before[0] in (None, 0) or value is None:
            continue
        if "partial" in (
            serving.statuses.get(kpi, "week", week).status,
            serving.statuses.get(kpi, "week", prior).status,
        ):
            continue
        unit = serving.catalog.unit(kpi)
        text, _ = change(Cell(value, num, den), Cell(*before), unit)
        relative = (value - before[0]) / abs(before[0])
        detail = f"{value_text(before[0], unit)} → {value_text(value, unit)} ({text})"
        found.append(
            (
                abs(relative),
                Finding(kpi, "all", value, value_text(value, unit), detail, links.kpi(kpi)),
            )
        )
    found.sort(key=lambda item: -item[0])
    return [f for _, f in found[:TOP_MOVES]]


def failing_sources(home: Path) -> list[str]:
    """One sentence per pulled source whose last pull failed, from the status file the pull
    writes in the home (docs/sources.md); none when the practice pulls nothing."""
    path = home / "pull" / "status.json"
    if not path.is_file():
        return []
    status = json.loads(path.read_text(encoding="utf-8"))
    return [
        f"{name}: the last pull failed ({entry.get('error') or 'no reason recorded'}); "
        + (
            f"last good pull {entry['last_success']}"
            if entry.get("last_success")
            else "no pull has succeeded yet"
        )
        for name, entry in sorted(status.items())
        if not entry.get("ok")
    ]


def _new_problems(serving: Serving, last_seen: str) -> list[str]:
    """New refused files first (their rows are missing from every figure), then rejections."""
    refused, rejected = [], []
    for r in serving.deliveries.iter_rows(named=True):
        if r["delivery_id"] <= last_seen:
            continue
        where = f"{r['source']}/{r['entity'] or 'unknown entity'} (delivery {r['delivery_id']})"
        if r["status"] == "failed":
            reason = r.get("error")
            refused.append(f"{where}: refused: {reason}" if reason else f"{where}: refused")
        elif r["rows_rejected"]:
            columns = serving.rejected_by_column.filter(
                serving.rejected_by_column["delivery_id"] == r["delivery_id"]
            )
            detail = ", ".join(
                f"{c['column_name']} {c['rows']}" for c in columns.iter_rows(named=True)
            )
            rejected.append(
                f"{where}: {r['rows_rejected']:,} of {r['rows_received']:,} rows rejected"
                + (f" ({detail})" if detail else "")
            )
    return refused + rejected


class _Links:
    def __init__(self, base: str, week: date):
        self.base, self.week = base, week

    def page(self, page: str, location: str | None = None) -> str:
        """The page's URL showing the digest's week; the scorecard is the app's root (its
        url path is empty in dashboards/app/app.py), so it has no path of its own."""
        path = "" if page == "scorecard" else page
        url = f"{self.base}/{path}?period=week&at={self.week.isoformat()}"
        return url + (f"&loc={location}" if location else "")

    def kpi(self, kpi: str, location: str | None = None) -> str:
        page = next((p for p, prefixes in _PAGES.items() if kpi.startswith(prefixes)), "scorecard")
        return self.page(page, location)


def _html(d: Digest, practice: str, as_of: date, links: _Links, kpi_label) -> str:
    e = html.escape

    def section(title: str, findings: list[Finding], empty: str) -> str:
        if not findings:
            return f"<h2 style='{_H2}'>{e(title)}</h2><p style='{_MUTED}'>{e(empty)}</p>"
        items = "".join(
            f"<tr><td style='{_TD}'><a href='{e(f.link)}'>{e(kpi_label(f.kpi))}</a>"
            f"{' · ' + e(f.where) if f.where else ''}</td>"
            f"<td style='{_TD};text-align:right;font-weight:bold'>{e(f.text)}</td>"
            f"<td style='{_TD};color:#5c6b7a'>{e(f.detail)}</td></tr>"
            for f in findings
        )
        return (
            f"<h2 style='{_H2}'>{e(title)}</h2>"
            f"<table style='border-collapse:collapse;width:100%'>{items}</table>"
        )

    problems = (
        "<ul>" + "".join(f"<li>{e(p)}</li>" for p in d.new_problems) + "</ul>"
        if d.new_problems
        else f"<p style='{_MUTED}'>No new rejected rows or failed files.</p>"
    )
    return (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{e(d.subject)}</title></head>"
        "<body style='font-family:Arial,Helvetica,sans-serif;color:#222;max-width:760px'>"
        f"<h1 style='color:#1f3a5f;font-size:22px'>{e(practice)}: week of {d.week:%d %b %Y}</h1>"
        + "".join(
            f"<p style='color:#b00020'><b>Source failing:</b> {e(line)}. Its new exports are "
            "missing from these figures until it is fixed (clinicops sources test).</p>"
            for line in d.failing_sources
        )
        + (
            f"<p style='color:#8a5a00'><b>Partial week:</b> the data ends on {as_of:%d %b %Y}, "
            "before this week does, so its counts are not final and no change is shown.</p>"
            if d.partial
            else ""
        )
        + f"<p style='{_MUTED}'>Data as of {as_of:%d %b %Y}. "
        f"<a href='{e(links.page('scorecard'))}'>Open the weekly scorecard</a></p>"
        + section("New alerts", d.fired, "No new alerts this week.")
        + section("Still out (already alerted)", d.still_out, "None.")
        + section("Back in band", d.cleared, "None.")
        + section("KPIs out of their band", d.out_of_band, "Every KPI with a band is inside it.")
        + section("Largest moves from the week before", d.moves, "No comparable week.")
        + f"<h2 style='{_H2}'>New data-quality problems</h2>{problems}"
        + f"<p><a href='{e(links.page('data-quality'))}'>Data-quality page</a></p>"
        + "</body></html>"
    )


def _text(d: Digest, links: _Links, kpi_label) -> str:
    lines = [d.subject, ""]
    lines += [f"SOURCE FAILING: {line}" for line in d.failing_sources]
    lines += [f"Scorecard: {links.page('scorecard')}", ""]
    for title, findings in (
        ("New alerts", d.fired),
        ("Still out", d.still_out),
        ("Back in band", d.cleared),
        ("Out of band", d.out_of_band),
        ("Largest moves", d.moves),
    ):
        lines.append(f"{title}:")
        lines += [
            f"  - {kpi_label(f.kpi)}{' · ' + f.where if f.where else ''}: "
            f"{f.text} ({f.detail}) {f.link}"
            for f in findings
        ] or ["  none"]
    lines.append("New data-quality problems:")
    lines += [f"  - {p}" for p in d.new_problems] or ["  none"]
    return "\n".join(lines) + "\n"


_H2 = "color:#1f3a5f;font-size:17px;margin:22px 0 6px"
_TD = "padding:4px 8px;border-bottom:1px solid #e3e8ee"
_MUTED = "color:#5c6b7a"


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    tls: str  # starttls | ssl | none
    user: str | None
    password: str | None

    @classmethod
    def from_env(cls, env=os.environ) -> SmtpSettings:
        host = env.get("CLINICOPS_SMTP_HOST")
        if not host:
            raise ValueError("CLINICOPS_SMTP_HOST is not set; the digest cannot be sent")
        tls = env.get("CLINICOPS_SMTP_TLS", "starttls").lower()
        if tls not in ("starttls", "ssl", "none"):
            raise ValueError(f"CLINICOPS_SMTP_TLS={tls!r}: use starttls, ssl or none")
        default_port = {"starttls": 587, "ssl": 465, "none": 25}[tls]
        return cls(
            host,
            int(env.get("CLINICOPS_SMTP_PORT", default_port)),
            tls,
            env.get("CLINICOPS_SMTP_USER") or None,
            env.get("CLINICOPS_SMTP_PASSWORD") or None,
        )


def send_digest(digest: Digest, smtp: SmtpSettings, sender: str, recipients: list[str]) -> None:
    if not recipients:
        raise ValueError("no recipients: set alerts.recipients in the config file")
    message = EmailMessage()
    message["Subject"] = digest.subject
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message.set_content(digest.text)
    message.add_alternative(digest.html, subtype="html")
    context = ssl.create_default_context()
    if smtp.tls == "ssl":
        client = smtplib.SMTP_SSL(smtp.host, smtp.port, context=context, timeout=30)
    else:
        client = smtplib.SMTP(smtp.host, smtp.port, timeout=30)
    with client:
        if smtp.tls == "starttls":
            client.starttls(context=context)
        if smtp.user:
            client.login(smtp.user, smtp.password or "")
        client.send_message(message)
