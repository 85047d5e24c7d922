"""One delivery of a whole fake practice, generated a quarter at a time."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from pipelines.sample.billing import bill
from pipelines.sample.calendar import holidays, quarters, span_for
from pipelines.sample.finance import budget, gl_expenses, labor_by_month
from pipelines.sample.ids import Counters, prefixed
from pipelines.sample.reference import locations_frame, payers_frame, providers_frame
from pipelines.sample.scheduling import appointment_rows, book, slot_rows, slots_between
from pipelines.sample.staff import PANEL_STRIDE, build_workforce, staff_rows, timesheets
from pipelines.sample.writer import DeliveryWriter

N_ORPHANS = 5
# Claim numbers far beyond any the practice has issued, so an orphan never collides.
ORPHAN_CLAIM_BASE = 990_000_000


def _orphans(rng: np.random.Generator, end: date, counters: Counters) -> pl.DataFrame:
    """Transactions for claims the billing export does not contain (reported, not rejected)."""
    return pl.DataFrame(
        {
            "transaction_number": counters.take("transaction", N_ORPHANS),
            "claim_number": ORPHAN_CLAIM_BASE + rng.choice(9_000_000, N_ORPHANS, replace=False),
            "posted_date": [end - timedelta(days=int(d)) for d in rng.integers(1, 60, N_ORPHANS)],
            "transaction_type": [
                "payer_payment",
                "payer_payment",
                "patient_payment",
                "contractual_adjustment",
                "payer_payment",
            ],
            "amount": np.round(rng.uniform(20, 300, N_ORPHANS), 2),
            "reason_code": [None, None, "PR-3", "CO-45", None],
        }  # fmt: skip
    ).select(
        transaction_id=prefixed(pl.col("transaction_number"), "T", 10),
        claim_id=prefixed(pl.col("claim_number"), "CL", 9),
        charge_id=pl.lit(None, pl.String),
        posted_date="posted_date",
        transaction_type="transaction_type",
        amount="amount",
        reason_code="reason_code",
    )


def _monthly(parts: list[pl.DataFrame], column: str) -> pl.DataFrame:
    """Sum the quarters' monthly parts: a quarter's claims are paid in later months."""
    return pl.concat(parts).group_by("location_id", "month").agg(pl.col(column).sum())


def generate_practice(
    out_dir: Path,
    providers: int = 12,
    weeks: int = 104,
    seed: int = 7,
    end_date: date = date(2026, 11, 22),
    progress: Callable[[str], None] | None = None,
) -> dict[str, int]:
    """Writes one delivery in the inbox layout: out_dir/<source>/<entity>.csv.gz for all
    12 entities; returns row counts per entity.

    The delivery is the export a practice would hand over on `end_date`: `weeks` weeks of
    history ending that day, template slots and booked appointments for twelve weeks
    beyond it, and only the charges, payments and pay periods posted by then. The same
    arguments always give the same bytes. Work proceeds a calendar quarter at a time,
    appended to the open files, so memory stays bounded for large practices.
    """
    say = progress or (lambda _message: None)
    span = span_for(end_date, weeks)
    rng = np.random.default_rng(seed)
    closed = holidays(span.start.year, span.horizon.year)
    workforce = build_workforce(rng, span, providers)
    counters = Counters(patient=providers * PANEL_STRIDE + 1)
    visits, charges, payments = [], [], []
    with DeliveryWriter(out_dir) as out:
        out.write("locations", locations_frame())
        out.write("payers", payers_frame())
        out.write("staff", staff_rows(workforce))
        out.write("providers", providers_frame(workforce.clinicians))
        for first, last in quarters(span.start, span.horizon):
            say(f"{first:%Y-%m-%d} to {last:%Y-%m-%d}: scheduling")
            slots = slots_between(workforce, first, last, closed)
            appointments = book(rng, slots, workforce, span, counters, seed)
            out.write("provider_slots", slot_rows(slots))
            out.write("appointments", appointment_rows(rng, appointments))
            say(f"{first:%Y-%m-%d} to {last:%Y-%m-%d}: billing")
            billed = bill(rng, appointments, span.end, counters)
            out.write("charges", billed.charges)
            out.write("claims", billed.claims)
            out.write("transactions", billed.transactions)
            visits.append(
                appointments.filter(pl.col("status") == "completed")
                .group_by(
                    "location_id", month=pl.col("scheduled_start").dt.date().dt.truncate("1mo")
                )
                .agg(visits=pl.len())
            )
            charges.append(
                billed.charges.group_by(
                    "location_id", month=pl.col("service_date").dt.truncate("1mo")
                ).agg(gross_charges=pl.col("charge_amount").sum())
            )
            payments.append(billed.payments_by_month)
        out.write("transactions", _orphans(rng, span.end, counters))

        say("payroll and ledger")
        sheets = timesheets(rng, workforce, span)
        out.write("timesheets", sheets)
        monthly_visits = _monthly(visits, "visits")
        homes = workforce.clinicians.unique("panel_base").sort("panel_base")["home"]
        out.write("gl_expenses", gl_expenses(rng, span, homes, monthly_visits))
        keys = ["location_id", "month"]
        actuals = (
            monthly_visits.join(_monthly(charges, "gross_charges"), on=keys, how="full",
                                coalesce=True)
            .join(_monthly(payments, "payments"), on=keys, how="full", coalesce=True)
            .join(labor_by_month(sheets, workforce.staff), on=keys, how="full", coalesce=True)
            .fill_null(0)
            .filter(pl.col("month") <= span.end)
        )  # fmt: skip
        out.write("budget", budget(span, homes, actuals, closed))
    return out.counts
