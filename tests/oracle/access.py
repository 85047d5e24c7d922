"""Access and patient flow KPIs of KPI_SPEC.md (scheduling), from the lake's appointments
and template slots."""

from __future__ import annotations

from datetime import date

import polars as pl

from tests.oracle.calendar_scopes import KEYS, bucket, flow, ratio, rows

MAX_WAIT_MIN = 12 * 60
WAITS = {
    "lobby_wait_min": ("checked_in_at", "roomed_at"),
    "wait_for_provider_min": ("checked_in_at", "provider_start_at"),
    "cycle_time_min": ("checked_in_at", "checked_out_at"),
}


def _minutes(start: str, end: str) -> pl.Expr:
    """An interval judged on its own: both ends present, 0 ≤ length ≤ 12 h, else null."""
    length = (pl.col(end) - pl.col(start)).dt.total_microseconds() / 60e6
    return pl.when(length.is_between(0, MAX_WAIT_MIN)).then(length)


def appointments(lake, as_of: date) -> pl.DataFrame:
    """Appointments up to the as-of date, with the flags the KPIs count."""
    status = pl.col("status")
    return (
        lake.appointments.with_columns(day=pl.col("scheduled_start").dt.date())
        .filter(pl.col("day") <= as_of)
        .with_columns(
            completed=status == "completed",
            no_show=status == "no_show",
            late_cancel=(status == "cancelled")
            & (pl.col("cancelled_at") > pl.col("scheduled_start") - pl.duration(hours=24)),
            new_patient=pl.col("appointment_type").str.strip_chars().str.to_lowercase()
            == "new_patient",
            lead_days=(pl.col("scheduled_start") - pl.col("booked_at")).dt.total_microseconds()
            / 86_400e6,
            **{kpi: _minutes(start, end) for kpi, (start, end) in WAITS.items()},
        )
    )


def access_kpis(lake, as_of: date) -> list[pl.DataFrame]:
    appts = appointments(lake, as_of)
    done = pl.col("completed")
    seen = done | pl.col("no_show")
    quantiles = []
    for kpi in WAITS:
        for q, suffix in ((0.5, "p50"), (0.9, "p90")):
            quantiles.append(
                pl.col(kpi).filter(done).quantile(q, "linear").alias(f"{kpi}_{suffix}")
            )
    by = (
        bucket(appts, "day", "location_id", "provider_id")
        .group_by(KEYS)
        .agg(
            *quantiles,
            completed=done.sum(),
            no_show=pl.col("no_show").sum(),
            late=pl.col("late_cancel").sum(),
            new_completed=(done & pl.col("new_patient")).sum(),
            lead=pl.col("lead_days").filter(seen & pl.col("new_patient")).median(),
            booked=pl.col("scheduled_minutes").filter(seen).sum(),
        )
    )
    c, n, late = pl.col("completed"), pl.col("no_show"), pl.col("late")
    out = [
        flow(by, "completed_visits", c),
        rows(by, "no_show_rate", ratio(n, c + n), n, c + n),
        rows(by, "late_cancel_rate", ratio(late, c + n + late), late, c + n + late),
        rows(
            by, "new_patient_share", ratio(pl.col("new_completed"), c), pl.col("new_completed"), c
        ),
        rows(by, "new_patient_lead_time_days", pl.col("lead")),
    ]
    for kpi in WAITS:
        for suffix in ("p50", "p90"):
            out.append(rows(by, f"{kpi}_{suffix}", pl.col(f"{kpi}_{suffix}")))

    slots = (
        bucket(
            lake.slots.with_columns(day=pl.col("slot_start").dt.date()).filter(
                pl.col("day") <= as_of
            ),
            "day",
            "location_id",
            "provider_id",
        )
        .group_by(KEYS)
        .agg(slot_minutes=pl.col("slot_minutes").sum())
    )
    util = by.select(*KEYS, "booked").join(slots, on=KEYS, how="full", coalesce=True)
    booked = pl.col("booked").fill_null(0)
    out.append(
        rows(
            util,
            "schedule_utilization",
            ratio(booked, pl.col("slot_minutes").fill_null(0)),
            booked,
            pl.col("slot_minutes").fill_null(0),
        )
    )
    return out


def completed_visits(lake, as_of: date) -> pl.DataFrame:
    """KEYS + completed (count) wherever an appointment exists, for derived KPIs."""
    appts = appointments(lake, as_of)
    return (
        bucket(appts, "day", "location_id", "provider_id")
        .group_by(KEYS)
        .agg(completed=pl.col("completed").sum())
    )
