"""third_next_available_days of KPI_SPEC.md, provider-Monday by provider-Monday."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np
import polars as pl

from tests.oracle.calendar_scopes import KEYS, ratio, rows, with_periods, with_scopes

WINDOW = timedelta(days=180)
US_PER_DAY = 86_400_000_000


def _us(column: str) -> pl.Expr:
    return pl.col(column).dt.epoch("us")


def provider_homes(staff: pl.DataFrame) -> pl.DataFrame:
    """A provider's staff home: the current employment, else the latest termination;
    then the largest FTE, the latest hire, the highest employee_id."""
    return (
        staff.filter(pl.col("provider_id").is_not_null())
        .sort(
            pl.col("termination_date").is_null(),
            pl.col("termination_date"),
            pl.col("fte"),
            pl.col("hire_date"),
            pl.col("employee_id"),
            nulls_last=False,
        )
        .group_by("provider_id")
        .agg(home=pl.col("location_id").last())
    )


def _free_days(slot_start, slot_end, held_start, held_end, monday_us: int) -> float | None:
    """Days from D to the third free slot in (D, D + 180 days), or None."""
    window = (slot_start > monday_us) & (slot_start < monday_us + 180 * US_PER_DAY)
    starts, ends = slot_start[window], slot_end[window]
    if len(held_start):
        order = np.argsort(held_start, kind="stable")
        hs, he = held_start[order], np.maximum.accumulate(held_end[order])
        idx = np.searchsorted(hs, ends, side="left")  # held intervals starting before b
        taken = (idx > 0) & (he[np.maximum(idx - 1, 0)] > starts)
        starts = starts[~taken]
    if len(starts) < 3:
        return None
    third = np.sort(starts)[2]
    return float((third - monday_us) // US_PER_DAY)


def provider_mondays(lake, as_of: date) -> pl.DataFrame:
    slots = lake.slots.select(
        "provider_id",
        start=_us("slot_start"),
        end=_us("slot_start") + pl.col("slot_minutes") * 60_000_000,
    )
    appts = lake.appointments.select(
        "provider_id",
        start=_us("scheduled_start"),
        end=_us("scheduled_start") + pl.col("scheduled_minutes") * 60_000_000,
        booked=_us("booked_at"),
        released=pl.when(pl.col("status") == "cancelled").then(_us("cancelled_at")),
    )
    epoch = datetime(1970, 1, 1)
    out = []
    for (provider,), own in slots.group_by("provider_id"):
        s_start, s_end = own["start"].to_numpy(), own["end"].to_numpy()
        mine = appts.filter(pl.col("provider_id") == provider)
        a_start, a_end = mine["start"].to_numpy(), mine["end"].to_numpy()
        booked = mine["booked"].to_numpy()
        released = mine["released"].fill_null(np.iinfo(np.int64).max).to_numpy()
        first = (epoch + timedelta(microseconds=int(s_start.min()))).date()
        monday = first - timedelta(days=first.weekday())
        while monday <= as_of:
            d_us = int(
                (datetime.combine(monday, datetime.min.time()) - epoch) / timedelta(microseconds=1)
            )
            in_window = ((s_start > d_us) & (s_start < d_us + 180 * US_PER_DAY)).any()
            if in_window:
                held = (booked <= d_us) & (released > d_us)
                days = _free_days(s_start, s_end, a_start[held], a_end[held], d_us)
                out.append((provider, monday, days))
            monday += timedelta(days=7)
    return pl.DataFrame(
        out, schema={"provider_id": pl.String, "monday": pl.Date, "days": pl.Float64}, orient="row"
    )


def third_next_available_kpis(lake, as_of: date) -> list[pl.DataFrame]:
    mondays = provider_mondays(lake, as_of).join(
        provider_homes(lake.staff), on="provider_id", how="left"
    )
    by = (
        with_scopes(with_periods(mondays, "monday"), "home", "provider_id")
        .group_by(KEYS)
        .agg(total=pl.col("days").sum(), count=pl.col("days").count())
    )
    t, n = pl.col("total"), pl.col("count")
    return [rows(by, "third_next_available_days", ratio(t, n), t, n)]
