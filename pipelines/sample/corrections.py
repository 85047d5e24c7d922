"""The week-later delivery: corrections to the first one, and rows that break the contract.

Corrections reuse keys of the history with changed values (a checked_out_at that arrived
late, a corrected charge amount, a changed appointment status, a termination HR had not
yet entered); one appointment appears twice in its file, the later line being the newer
version. Broken rows cover each kind of violation in CONTRACTS.md "Validation at
landing" once, some on existing keys (the good version must survive) and some on new
keys. The history is read as text, so untouched values keep their exact spelling.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from pipelines.sample.writer import DeliveryWriter, inbox_path

LOCAL_STAMP = r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$"


def _read(history_dir: Path, entity: str) -> pl.DataFrame:
    return pl.read_csv(inbox_path(history_dir, entity), infer_schema=False)


def _pick(rng: np.random.Generator, frame: pl.DataFrame, count: int) -> pl.DataFrame:
    """`count` rows chosen at random (fewer if there are fewer), in file order."""
    if frame.is_empty():
        raise ValueError("the history has no row to correct; generate a longer practice")
    rows = np.sort(rng.choice(frame.height, min(count, frame.height), replace=False))
    return frame[rows]


def _next_id(ids: pl.Series, prefix: str, offset: int) -> str:
    """An id the history has not used yet, in the history's own numbering."""
    numbers = ids.str.strip_prefix(prefix)
    width = int(numbers.str.len_chars().max())
    return prefix + str(int(numbers.cast(pl.Int64).max()) + offset).zfill(width)


def _money(value: pl.Expr) -> pl.Expr:
    """Money as the history writes it: two decimals, no separators."""
    cents = (value * 100).round(0).cast(pl.Int64)
    return (cents // 100).cast(pl.String) + "." + (cents % 100).cast(pl.String).str.zfill(2)


def _shift(stamp: pl.Expr, minutes: pl.Expr) -> pl.Expr:
    parsed = stamp.str.to_datetime("%Y-%m-%d %H:%M:%S")
    return (parsed + pl.duration(minutes=minutes)).dt.strftime("%Y-%m-%d %H:%M:%S")


def _appointments(rng: np.random.Generator, history: pl.DataFrame, end: datetime):
    completed = history.filter(pl.col("status") == "completed")
    late_checkout = _pick(
        rng,
        completed.filter(
            pl.col("checked_out_at").is_null(),
            pl.col("provider_start_at").str.contains(LOCAL_STAMP),
        ),
        4,
    ).with_columns(
        checked_out_at=_shift(pl.col("provider_start_at"), pl.lit(int(rng.integers(15, 60))))
    )
    start = pl.col("scheduled_start").str.to_datetime("%Y-%m-%d %H:%M", strict=False)
    scheduled = history.filter(pl.col("status") == "scheduled")
    # In the week since the first export, some of those visits were missed...
    missed = _pick(rng, scheduled.filter(start < end + timedelta(days=7)), 2).with_columns(
        status=pl.lit("no_show")
    )
    later = scheduled.filter(start > end + timedelta(days=10)).join(
        missed, on="appointment_id", how="anti"
    )
    # ...and some later ones were cancelled, recorded during the week.
    original = _pick(rng, later, 6)
    cancelled = original.head(4).with_columns(
        status=pl.lit("cancelled"),
        cancelled_at=pl.lit((end + timedelta(days=2, hours=9, minutes=41)).isoformat(" ")),
    )
    broken_source = original.tail(2)
    broken = pl.concat(
        [
            # a cancelled appointment without cancelled_at, on an existing key
            broken_source.head(1).with_columns(status=pl.lit("cancelled")),
            # a status outside the enum, on an existing key
            broken_source.tail(1).with_columns(status=pl.lit("arrived")),
            # a date-only value in a timestamp column, on a new key
            cancelled.head(1).with_columns(
                appointment_id=pl.lit(_next_id(history["appointment_id"], "A", 1)),
                status=pl.lit("scheduled"),
                cancelled_at=pl.lit(None, pl.String),
                scheduled_start=pl.col("scheduled_start").str.slice(0, 10),
            ),
        ]
    )
    # The first cancelled row also appears unchanged earlier in the file: the later wins.
    return pl.concat([original.head(1), late_checkout, missed, cancelled, broken])


def _charges(rng: np.random.Generator, history: pl.DataFrame) -> pl.DataFrame:
    recent = history.filter(pl.col("units") == "1").tail(5000)
    corrected = _pick(rng, recent, 4).with_columns(
        charge_amount=_money((pl.col("charge_amount").cast(pl.Float64) * 1.15).round(0))
    )
    base = _pick(rng, recent, 4)
    new_id = [_next_id(history["charge_id"], "C", k) for k in range(1, 4)]
    broken = pl.concat(
        [
            # cpt_code not 5 characters
            base[0].with_columns(charge_id=pl.lit(new_id[0]), cpt_code=pl.lit("9921")),
            # posted before the service, on an existing key
            base[1].with_columns(
                posted_date=(pl.col("service_date").str.to_date() - pl.duration(days=3)).cast(
                    pl.String
                )
            ),
            # money written with a currency sign and a thousands separator
            base[2].with_columns(charge_id=pl.lit(new_id[1]), charge_amount=pl.lit("$1,250.00")),
            # units <= 0
            base[3].with_columns(charge_id=pl.lit(new_id[2]), units=pl.lit("0")),
        ]
    )
    return pl.concat([corrected, broken])


def _transactions(rng: np.random.Generator, history: pl.DataFrame) -> pl.DataFrame:
    payments = history.filter(pl.col("transaction_type") == "payer_payment").tail(5000)
    corrected = _pick(rng, payments, 2).with_columns(
        amount=_money(pl.col("amount").cast(pl.Float64) - 5)
    )
    base = _pick(rng, payments, 2)
    broken = pl.concat(
        [
            # money < 0
            base[0].with_columns(
                transaction_id=pl.lit(_next_id(history["transaction_id"], "T", 1)),
                amount=pl.lit("-40.00"),
            ),
            # a required value missing
            base[1].with_columns(
                transaction_id=pl.lit(_next_id(history["transaction_id"], "T", 2)),
                claim_id=pl.lit(None, pl.String),
            ),
        ]
    )
    return pl.concat([corrected, broken])


def _staff(rng: np.random.Generator, history: pl.DataFrame, end: datetime) -> pl.DataFrame:
    active = history.filter(
        pl.col("termination_date").is_null(), pl.col("role") == "medical_assistant"
    )
    leaver, broken = _pick(rng, active, 2)[0], _pick(rng, history, 1)
    return pl.concat(
        [
            # HR entered a resignation late: the employee left before the first export.
            leaver.with_columns(
                termination_date=pl.lit((end - timedelta(days=10)).date().isoformat())
            ),
            # fte outside (0, 1], on an existing key
            broken.with_columns(fte=pl.lit("1.50")),
        ]
    )


def _timesheets(rng: np.random.Generator, history: pl.DataFrame) -> pl.DataFrame:
    last_period = history.filter(pl.col("pay_period_start") == pl.col("pay_period_start").max())
    corrected = _pick(rng, last_period, 1).with_columns(
        gross_pay=_money(pl.col("gross_pay").cast(pl.Float64) + 150)
    )
    base = _pick(rng, last_period, 3)
    start = pl.col("pay_period_start").str.to_date()
    next_start = (start + pl.duration(days=14)).cast(pl.String)
    next_end = (start + pl.duration(days=27)).cast(pl.String)
    broken = pl.concat(
        [
            # a pay period that ends before it starts, on a new key
            base[0].with_columns(
                pay_period_start=next_start,
                pay_period_end=(start + pl.duration(days=1)).cast(pl.String),
            ),
            # hours < 0
            base[1].with_columns(
                pay_period_start=next_start, pay_period_end=next_end, overtime_hours=pl.lit("-2.00")
            ),
            # text in a number
            base[2].with_columns(
                pay_period_start=next_start, pay_period_end=next_end, regular_hours=pl.lit("eight")
            ),
        ]
    )
    return pl.concat([corrected, broken])


def generate_corrections(history_dir: Path, out_dir: Path, seed: int = 7) -> dict[str, int]:
    """A second delivery (inbox layout) that corrects some rows of the first (same keys,
    changed values, e.g. a late-arriving checked_out_at, a corrected charge amount, a
    changed appointment status) and carries a handful of broken rows, one per kind of
    contract violation.

    `history_dir` is the first delivery as `generate_practice` wrote it. The new delivery
    is the export taken a week after the first one's last posting day; it holds only the
    entities with something to correct. Returns row counts per entity.
    """
    rng = np.random.default_rng([seed, 2])
    last_posted = _read(history_dir, "charges")["posted_date"].max()
    end = datetime.fromisoformat(last_posted) + timedelta(days=1)
    with DeliveryWriter(out_dir) as out:
        out.write("appointments", _appointments(rng, _read(history_dir, "appointments"), end))
        out.write("charges", _charges(rng, _read(history_dir, "charges")))
        out.write("transactions", _transactions(rng, _read(history_dir, "transactions")))
        out.write("staff", _staff(rng, _read(history_dir, "staff"), end))
        out.write("timesheets", _timesheets(rng, _read(history_dir, "timesheets")))
    return out.counts
