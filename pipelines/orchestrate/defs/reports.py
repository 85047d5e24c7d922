"""The board deck and the weekly digest as assets downstream of the serving file.

Both run in the scheduled job after every build, and the inbox sensor's runs too, so each
asset decides whether its report is due (dashboards/reports/jobs.py): the deck of a month
is built once, by the first build after that month is complete, so a deck the board has
received never changes underneath it (delete the files to rebuild one); the digest of a
week is written and sent once, by the first build after that week is complete.
"""

import getpass
from datetime import date

from dagster import AssetExecutionContext, MaterializeResult, asset
from dagster import Config as RunConfig

from dashboards.access.principal import Principal, Role, acting_as
from dashboards.reports import jobs as report_jobs
from pipelines.orchestrate.defs.resources import ClinicopsResource


def _principal(asset_name: str, role: Role) -> Principal:
    # Reports read through the access layer like any reader; the schedule acts for the
    # operator who runs Dagster, named so that the audit log tells it from a person.
    return Principal(f"dagster:{asset_name}:{getpass.getuser()}", role)


@asset(
    key=["reports", "board_deck"],
    deps=[["serving"]],
    group_name="reports",
    kinds={"pptx", "pdf"},
    description="<home>/reports/board-YYYY-MM.pptx and .pdf: the last complete month's deck.",
)
def board_deck(context: AssetExecutionContext, clinicops: ClinicopsResource):
    # Imported here: loading the definitions should not pay for pptx, Plotly and kaleido.
    from dashboards.reports.deck import build_deck

    home = clinicops.practice_home()
    # Built as the CLI builds it (admin): the file goes to whoever runs the practice's
    # reports, who sends it on; the deck itself suppresses small cells and provider ids.
    with acting_as(_principal("board_deck", Role.ADMIN)):
        period = report_jobs.due_deck(home)
        if period is None:
            context.log.info("the last complete month's deck is already out")
            return MaterializeResult(metadata={"built": False})
        options = report_jobs.deck_options(clinicops.practice_config())
        result = build_deck(home.serving, period, report_jobs.deck_stem(home, period), options)
    context.log.info(f"wrote {result.pptx} and {result.pdf} in {result.seconds:.1f} s")
    return MaterializeResult(
        metadata={
            "path": str(result.pptx),
            "pdf": str(result.pdf),
            "period": period.code,
            "slides": len(result.slide_titles),
            "seconds": round(result.seconds, 1),
            "built": True,
        }
    )


class DigestRunConfig(RunConfig):
    # Monday of the week to write and send (YYYY-MM-DD), even if it went out before;
    # empty: the newest complete week, once.
    week: str = ""


@asset(
    key=["reports", "weekly_digest"],
    deps=[["serving"]],
    group_name="reports",
    kinds={"html", "email"},
    description="<home>/reports/digest-YYYY-MM-DD.html, mailed over SMTP when "
    "CLINICOPS_SMTP_HOST is set: the newest complete week's digest and alerts.",
)
def weekly_digest(
    context: AssetExecutionContext, clinicops: ClinicopsResource, config: DigestRunConfig
):
    home = clinicops.practice_home()
    smtp = report_jobs.smtp_from_env()
    # The office manager receives it: it carries what a manager may read.
    with acting_as(_principal("weekly_digest", Role.MANAGER)):
        week = date.fromisoformat(config.week) if config.week else None
        if week is None:
            newest = report_jobs.newest_complete_week(home)
            if newest is None:
                # A practice's first days: nothing to digest yet, and no reason to fail
                # the scheduled run that published them.
                context.log.info("no complete week published yet: no digest")
                return MaterializeResult(metadata={"sent": False})
            if report_jobs.digested_week(home) == newest:
                context.log.info(f"the digest of the week of {newest} is already out")
                return MaterializeResult(metadata={"week": newest.isoformat(), "sent": False})
            week = newest
        outcome = report_jobs.write_digest(home, clinicops.practice_config(), week, smtp)
    digest = outcome.digest
    context.log.info(
        f"{digest.subject}; wrote {outcome.page}"
        + (f", sent to {outcome.recipients} recipient(s)" if smtp else ", not sent (no SMTP)")
    )
    return MaterializeResult(
        metadata={
            "week": digest.week.isoformat(),
            "path": str(outcome.page),
            "sent": smtp is not None,
            "recipients": outcome.recipients,
            "new_alerts": len(digest.fired),
            "still_out": len(digest.still_out),
            "out_of_band": len(digest.out_of_band),
        }
    )
