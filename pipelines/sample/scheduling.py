"""Template slots and the appointments booked into them, with their visit time stamps.

Every appointment sits in one of its provider's template slots at that slot's location.
A slot is booked with a probability that follows the demand curve; a cancelled booking
is often re-booked by someone else; a few slots are double-booked for same-day sick
visits. Only what the scheduler knew when the export was taken is written: future
appointments are `scheduled` unless their cancellation was already recorded.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl

from pipelines.core.contracts import (
    APPOINTMENT_STATUSES,
    APPOINTMENT_TYPES,
    FINANCIAL_CLASSES,
    Kind,
    contract_for,
)
from pipelines.sample.calendar import BASE_FILL, Span, demand, weekday
from pipelines.sample.ids import Counters, prefixed
from pipelines.sample.reference import LOCATIONS, PAYERS, payer_of_patient
from pipelines.sample.staff import Workforce

STATUS = {name: i for i, name in enumerate(APPOINTMENT_STATUSES)}
NEW, ESTABLISHED, PHYSICAL, PROCEDURE, TELEHEALTH = range(len(APPOINTMENT_TYPES))
# Appointment type mix by slot length (columns in APPOINTMENT_TYPES order).
TYPE_BY_LENGTH = {
    15: (0.0, 0.78, 0.0, 0.0, 0.22),
    20: (0.05, 0.68, 0.0, 0.10, 0.17),
    30: (0.35, 0.30, 0.20, 0.15, 0.0),
    40: (0.45, 0.0, 0.45, 0.10, 0.0),
}
# New patients and physicals wait weeks for a slot; sick visits are booked days ahead.
LEAD_MEDIAN_DAYS = np.array([16.0, 6.0, 28.0, 12.0, 1.5])
NO_SHOW_BY_CLASS = dict(commercial=0.05, medicare=0.05, medicaid=0.12, self_pay=0.11, other=0.07)
P_CANCEL = 0.105
# Deliberately broken visit stamps (CONTRACTS.md: loaded, their intervals reported).
P_NO_ROOMED, P_NO_CHECKOUT, P_OUT_OF_ORDER, P_OVERNIGHT = 0.003, 0.004, 0.002, 0.001
# Timestamps some exports write with a UTC offset; landing must convert them.
P_OFFSET = 0.002
OFFSET_COLUMNS = ("booked_at", "scheduled_start", "checked_in_at", "checked_out_at")

SECOND = np.timedelta64(1, "s")
MINUTE = np.timedelta64(60, "s")
HOUR = np.timedelta64(3600, "s")
DAY = np.timedelta64(86400, "s")
NAT = np.datetime64("NaT", "s")


def slots_between(workforce: Workforce, first: date, last: date, closed: np.ndarray):
    """Template slots from `first` to `last`: working days, not on holiday or vacation."""
    days = pl.DataFrame({"date": pl.date_range(first, last, eager=True)}).with_columns(
        weekday=pl.col("date").dt.weekday().cast(pl.Int64) - 1,
        week_start=pl.col("date").dt.truncate("1w"),
    )
    days = days.filter(~pl.col("date").is_in(closed.astype("datetime64[D]").tolist()))
    slots = (
        workforce.templates.join(days, on="weekday")
        .join(
            workforce.clinicians.select("provider_id", "hire_date", "termination_date"),
            on="provider_id",
        )
        .filter(
            pl.col("date") >= pl.col("hire_date"),
            pl.col("termination_date").is_null() | (pl.col("date") <= pl.col("termination_date")),
        )
        .join(workforce.vacations, on=["provider_id", "week_start"], how="anti")
    )
    return slots.select(
        "provider_id",
        "location_id",
        slot_start=pl.col("date").cast(pl.Datetime("us"))
        + pl.duration(minutes=pl.col("start_min")),
        slot_minutes="slot_minutes",
    ).sort("slot_start", "provider_id")


def _types(rng: np.random.Generator, minutes: np.ndarray) -> np.ndarray:
    table = np.array([TYPE_BY_LENGTH.get(m, TYPE_BY_LENGTH[20]) for m in (15, 20, 30, 40)])
    row = np.searchsorted([15, 20, 30, 40], np.clip(minutes, 15, 40))
    cum = np.cumsum(table, axis=1)[row]
    return np.minimum((rng.random(len(minutes))[:, None] > cum).sum(axis=1), TELEHEALTH)


def _booked_at(rng: np.random.Generator, start: np.ndarray, kind: np.ndarray) -> np.ndarray:
    n = len(start)
    lead = rng.lognormal(np.log(LEAD_MEDIAN_DAYS[kind]), 0.85)
    same_day = np.isin(kind, [ESTABLISHED, TELEHEALTH]) & (rng.random(n) < 0.1)
    whole_days = np.floor(lead).astype(np.int64)
    office_hours = rng.integers(int(7.5 * 3600), int(17.5 * 3600), n) * SECOND
    booked = start.astype("datetime64[D]") - whole_days * DAY + office_hours
    short = same_day | (whole_days == 0) | (booked >= start)
    return np.where(short, start - rng.integers(20 * 60, 5 * 3600, n) * SECOND, booked)


def _cancelled_at(rng: np.random.Generator, start: np.ndarray, booked: np.ndarray) -> np.ndarray:
    """When each booking was cancelled (NaT if never): some late, some exactly 24 h ahead."""
    n = len(start)
    lead_days = (start - booked) / DAY
    cancelled = rng.random(n) < P_CANCEL + 0.05 * (lead_days > 21)
    kind = rng.random(n)
    hours_before = np.where(
        kind < 0.25,
        rng.uniform(0.5, 23.9, n),
        np.where(kind < 0.28, 24.0, 24.0 + rng.lognormal(np.log(60.0), 1.0, n)),
    )
    at = start - np.round(hours_before * 3600).astype(np.int64) * SECOND
    before_booking = at <= booked
    share = rng.uniform(0.2, 0.9, n)
    at = np.where(before_booking, booked + np.round((start - booked) / SECOND * share) * SECOND, at)
    return np.where(cancelled, at, NAT)


def _visit_stamps(rng: np.random.Generator, start, minutes, kind, monday):
    """Check-in, rooming, provider and check-out times of completed visits."""
    n = len(start)
    arrive = np.clip(rng.normal(-7, 9, n), -45, 40) * 60 + rng.integers(0, 60, n)
    checked_in = start + np.round(arrive).astype(np.int64) * SECOND
    lobby = np.where(
        kind == TELEHEALTH,
        rng.lognormal(np.log(4.0), 0.6, n),
        rng.lognormal(np.log(14.5), 0.62, n) * np.where(monday, 1.12, 1.0),
    )
    room_wait = rng.lognormal(np.log(6.0), 0.75, n)
    visit = minutes * rng.lognormal(np.log(0.8), 0.3, n) + 3

    def later(base, minutes_):
        return base + np.round(minutes_ * 60).astype(np.int64) * SECOND

    roomed = later(checked_in, lobby)
    provider = later(roomed, room_wait)
    checked_out = later(provider, visit)
    broken = rng.random(n)
    no_roomed = broken < P_NO_ROOMED
    no_checkout = (broken >= P_NO_ROOMED) & (broken < P_NO_ROOMED + P_NO_CHECKOUT)
    cut = P_NO_ROOMED + P_NO_CHECKOUT
    swapped = (broken >= cut) & (broken < cut + P_OUT_OF_ORDER)
    overnight = (broken >= cut + P_OUT_OF_ORDER) & (broken < cut + P_OUT_OF_ORDER + P_OVERNIGHT)
    roomed, provider = np.where(swapped, provider, roomed), np.where(swapped, roomed, provider)
    checked_out = np.where(overnight, later(checked_in, rng.uniform(12.5, 20, n) * 60), checked_out)
    return (
        checked_in,
        np.where(no_roomed, NAT, roomed),
        provider,
        np.where(no_checkout, NAT, checked_out),
    )


def book(
    rng: np.random.Generator,
    slots: pl.DataFrame,
    workforce: Workforce,
    span: Span,
    counters: Counters,
    seed: int,
) -> pl.DataFrame:
    """Appointments in these slots as the scheduler knows them at `span.as_of`."""
    slots = slots.join(
        workforce.clinicians.select("provider_id", "panel_base", "panel_size"),
        on="provider_id",
        how="left",
    )
    start_all = slots["slot_start"].to_numpy().astype("datetime64[s]")
    minutes_all = slots["slot_minutes"].to_numpy()
    fill = demand(start_all.astype("datetime64[D]"))
    n = slots.height

    primary = np.nonzero(rng.random(n) < fill)[0]
    p_kind = _types(rng, minutes_all[primary])
    p_booked = _booked_at(rng, start_all[primary], p_kind)
    p_cancel = _cancelled_at(rng, start_all[primary], p_booked)

    # A slot freed by a cancellation is often taken again, more often when freed early.
    freed_ahead = (start_all[primary] - p_cancel) / HOUR
    refill = ~np.isnat(p_cancel) & (freed_ahead > 2)
    refill &= rng.random(len(primary)) < np.where(freed_ahead < 24, 0.25, 0.55)
    r_slot = primary[refill]
    r_kind = _types(rng, minutes_all[r_slot])
    gap = (start_all[r_slot] - p_cancel[refill]) / SECOND
    r_booked = (
        p_cancel[refill]
        + np.round(gap * rng.uniform(0.05, 0.8, len(r_slot))).astype(np.int64) * SECOND
    )

    # Same-day sick visits squeezed into an already booked slot.
    o_slot = np.nonzero(rng.random(n) < 0.03 * fill / BASE_FILL)[0]
    o_kind = np.where(rng.random(len(o_slot)) < 0.7, ESTABLISHED, TELEHEALTH)
    o_booked = start_all[o_slot] - rng.integers(20 * 60, 30 * 3600, len(o_slot)) * SECOND

    slot_idx = np.concatenate([primary, r_slot, o_slot])
    kind = np.concatenate([p_kind, r_kind, o_kind])
    booked = np.concatenate([p_booked, r_booked, o_booked])
    cancel = np.concatenate([p_cancel, np.full(len(r_slot) + len(o_slot), NAT)])
    as_of = np.datetime64(span.as_of, "s")
    known = booked < as_of
    slot_idx, kind, booked, cancel = slot_idx[known], kind[known], booked[known], cancel[known]
    start = start_all[slot_idx]
    minutes = minutes_all[slot_idx]

    provider_rank = slots["provider_id"].rank("dense").to_numpy()
    order = np.lexsort((booked, provider_rank[slot_idx], start))
    slot_idx, kind, booked, cancel, start, minutes = (
        a[order] for a in (slot_idx, kind, booked, cancel, start, minutes)
    )
    m = len(slot_idx)
    is_new = kind == NEW
    patient = slots["panel_base"].to_numpy()[slot_idx] + np.floor(
        rng.random(m) * slots["panel_size"].to_numpy()[slot_idx]
    ).astype(np.int64)
    patient[is_new] = counters.take("patient", int(is_new.sum()))
    payer = payer_of_patient(patient, seed)
    class_of_payer = np.array([FINANCIAL_CLASSES.index(p.financial_class) for p in PAYERS])
    no_show_by_class = np.array([NO_SHOW_BY_CLASS[c] for c in FINANCIAL_CLASSES])

    past = start < as_of
    cancel = np.where(cancel < as_of, cancel, NAT)
    lead_days = (start - booked) / DAY
    monday = weekday(start.astype("datetime64[D]")) == 0
    p_no_show = (
        no_show_by_class[class_of_payer[payer]]
        + 0.03 * is_new
        + 0.025 * (lead_days > 30)
        + 0.01 * monday
    )
    no_show = rng.random(m) < p_no_show
    status = np.select(
        [~np.isnat(cancel), ~past, no_show],
        [STATUS["cancelled"], STATUS["scheduled"], STATUS["no_show"]],
        STATUS["completed"],
    )
    completed = status == STATUS["completed"]
    c = np.nonzero(completed)[0]
    stamps = [np.full(m, NAT) for _ in range(4)]
    for column, values in zip(
        stamps, _visit_stamps(rng, start[c], minutes[c], kind[c], monday[c]), strict=True
    ):
        column[c] = values
    encounter = np.full(m, -1, dtype=np.int64)
    encounter[c] = counters.take("encounter", len(c))

    frame = pl.DataFrame(
        {
            "appointment_number": counters.take("appointment", m),
            "patient_number": patient,
            "provider_id": slots["provider_id"].gather(slot_idx),
            "location_id": slots["location_id"].gather(slot_idx),
            "type_index": kind,
            "booked_at": booked.astype("datetime64[us]"),
            "scheduled_start": start.astype("datetime64[us]"),
            "scheduled_minutes": minutes,
            "status": pl.Series(APPOINTMENT_STATUSES).gather(status),
            "cancelled_at": cancel.astype("datetime64[us]"),
            "checked_in_at": stamps[0].astype("datetime64[us]"),
            "roomed_at": stamps[1].astype("datetime64[us]"),
            "provider_start_at": stamps[2].astype("datetime64[us]"),
            "checked_out_at": stamps[3].astype("datetime64[us]"),
            "encounter_number": encounter,
            "payer_index": payer,
        }
    )
    return frame.with_columns(
        appointment_id=prefixed(pl.col("appointment_number"), "A", 9),
        patient_id=prefixed(pl.col("patient_number"), "P", 7),
        appointment_type=pl.Series(APPOINTMENT_TYPES).gather(kind),
        encounter_id=pl.when(pl.col("encounter_number") > 0).then(
            prefixed(pl.col("encounter_number"), "EN", 9)
        ),
    )


def _format(column: str) -> str:
    """Schedulers print the schedule to the minute and the visit stamps to the second."""
    return "%Y-%m-%d %H:%M" if column == "scheduled_start" else "%Y-%m-%d %H:%M:%S"


def appointment_rows(rng: np.random.Generator, frame: pl.DataFrame) -> pl.DataFrame:
    """The export's text: minutes for the schedule, seconds for stamps, a few offsets."""
    contract = contract_for("appointments")
    stamps = [c.name for c in contract.columns if c.kind is Kind.TIMESTAMP]
    text = frame.with_columns(pl.col(c).dt.strftime(_format(c)) for c in stamps)
    picked = np.nonzero(rng.random(frame.height) < P_OFFSET)[0]
    column_of = rng.choice(len(OFFSET_COLUMNS), len(picked))
    as_utc = rng.random(len(picked)) < 0.5
    for i, column in enumerate(OFFSET_COLUMNS):
        fmt = _format(column)
        rows = frame.select(column, "location_id")[picked[column_of == i]].with_columns(
            row=pl.Series(picked[column_of == i], dtype=pl.UInt32),
            utc=pl.Series(as_utc[column_of == i]),
        )
        for loc in LOCATIONS:
            local = rows.filter(pl.col("location_id") == loc.location_id).with_columns(
                aware=pl.col(column).dt.replace_time_zone(
                    loc.timezone, ambiguous="earliest", non_existent="null"
                )
            )
            local = local.with_columns(
                text=pl.when("utc")
                .then(pl.col("aware").dt.convert_time_zone("UTC").dt.strftime(f"{fmt}Z"))
                .otherwise(pl.col("aware").dt.strftime(f"{fmt}%:z"))
            ).drop_nulls("text")
            if local.height:
                # ISO 8601 with an explicit offset reads as `2026-03-02T14:05:00Z`.
                text = text.with_columns(
                    text[column].scatter(
                        local["row"], local["text"].str.replace(" ", "T", literal=True)
                    )
                )
    return text.select(contract.names)


def slot_rows(slots: pl.DataFrame) -> pl.DataFrame:
    return slots.select(
        "provider_id",
        "location_id",
        slot_start=pl.col("slot_start").dt.strftime("%Y-%m-%d %H:%M"),
        slot_minutes="slot_minutes",
    )
