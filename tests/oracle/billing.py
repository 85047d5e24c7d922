"""Production and revenue-cycle KPIs of KPI_SPEC.md (billing)."""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl

from tests.oracle.calendar_scopes import KEYS, bucket, flow, periods, ratio, rows, with_scopes

PAYMENT_SIGN = {"payer_payment": 1.0, "patient_payment": 1.0, "refund": -1.0}
# How each transaction type moves A/R: payments, adjustments and write-offs lower it,
# refunds raise it, a denial never moves it.
AR_SIGN = {
    "payer_payment": -1.0,
    "patient_payment": -1.0,
    "contractual_adjustment": -1.0,
    "write_off": -1.0,
    "refund": 1.0,
    "denial": 0.0,
}
PAYER_RESPONSES = ("payer_payment", "contractual_adjustment", "denial")
AGING = (("0_30", 30), ("31_60", 60), ("61_90", 90), ("91_120", 120), ("over_120", None))
MONEY_DIGITS = 4  # money sums are exact to 1/10,000 (decimal(18,4)), so a zero stays zero


def charges(lake, as_of: date) -> pl.DataFrame:
    """Charge lines known at the as-of date, priced in work RVUs, with payer class."""
    rvu = lake.rvus
    lines = (
        lake.charges.filter(pl.col("posted_date") <= as_of)
        .with_columns(
            pl.col("cpt_code").str.strip_chars().str.to_uppercase(),
            pl.col("modifier").str.strip_chars().str.to_uppercase().fill_null(""),
        )
        .join(rvu.rename({"work_rvu": "rvu_mod"}), on=["cpt_code", "modifier"], how="left")
        .join(
            rvu.filter(pl.col("modifier") == "").select("cpt_code", rvu_code="work_rvu"),
            on="cpt_code",
            how="left",
        )
        .join(lake.payers.select("payer_id", "financial_class"), on="payer_id", how="left")
    )
    return lines.with_columns(
        work_rvus=pl.coalesce("rvu_mod", "rvu_code", pl.lit(0.0)) * pl.col("units"),
        financial_class=pl.col("financial_class").fill_null("unknown"),
        lag=(pl.col("posted_date") - pl.col("service_date")).dt.total_days(),
    )


def claim_owners(lines: pl.DataFrame) -> pl.DataFrame:
    """A claim belongs to the location and provider of its first line (earliest
    service_date, then lowest charge_id as a string)."""
    return (
        lines.sort(["claim_id", "service_date", "charge_id"])
        .group_by("claim_id", maintain_order=True)
        .first()
        .select(
            "claim_id",
            claim_location=pl.col("location_id"),
            claim_provider=pl.col("rendering_provider_id"),
            first_service=pl.col("service_date"),
        )
    )


def production_kpis(lines: pl.DataFrame) -> list[pl.DataFrame]:
    scoped = bucket(lines, "service_date", "location_id", "rendering_provider_id")
    by = scoped.group_by(KEYS).agg(
        gross=pl.col("charge_amount").sum().round(MONEY_DIGITS),
        rvus=pl.col("work_rvus").sum(),
        lag=pl.col("lag").cast(pl.Float64).median(),
    )
    mix = (
        scoped.group_by([*KEYS, "financial_class"])
        .agg(part=pl.col("charge_amount").sum().round(MONEY_DIGITS))
        .join(by.select(*KEYS, "gross"), on=KEYS)
    )
    return [
        flow(by, "gross_charges", pl.col("gross")),
        flow(by, "work_rvus", pl.col("rvus")),
        rows(by, "charge_lag_days", pl.col("lag")),
        rows(
            mix,
            pl.lit("payer_mix_") + pl.col("financial_class"),
            ratio(pl.col("part"), pl.col("gross")),
            pl.col("part"),
            pl.col("gross"),
        ),
    ]


def transactions(lake, as_of: date, owners: pl.DataFrame) -> pl.DataFrame:
    return (
        lake.transactions.filter(pl.col("posted_date") <= as_of)
        .join(owners, on="claim_id", how="left")
        .with_columns(
            paid=pl.col("amount")
            * pl.col("transaction_type").replace_strict(PAYMENT_SIGN, default=0.0),
            ar=pl.col("amount") * pl.col("transaction_type").replace_strict(AR_SIGN),
        )
    )


def _claim_scoped(frame: pl.DataFrame, day: str) -> pl.DataFrame:
    return bucket(frame, day, "claim_location", "claim_provider")


def payments_kpis(tx: pl.DataFrame) -> list[pl.DataFrame]:
    by = (
        _claim_scoped(tx, "posted_date")
        .group_by(KEYS)
        .agg(payments=pl.col("paid").sum().round(MONEY_DIGITS))
    )
    return [flow(by, "payments", pl.col("payments"))]


def denial_kpis(tx: pl.DataFrame) -> list[pl.DataFrame]:
    responses = tx.filter(pl.col("transaction_type").is_in(PAYER_RESPONSES))
    first = responses.group_by("claim_id").agg(first_day=pl.col("posted_date").min())
    claims = (
        responses.join(first, on="claim_id")
        .filter(pl.col("posted_date") == pl.col("first_day"))
        .group_by("claim_id", "first_day", "claim_location", "claim_provider")
        .agg(denied=(pl.col("transaction_type") == "denial").any())
    )
    by = (
        _claim_scoped(claims, "first_day")
        .group_by(KEYS)
        .agg(denied=pl.col("denied").sum(), claims=pl.len())
    )
    d, n = pl.col("denied"), pl.col("claims")
    return [rows(by, "initial_denial_rate", ratio(d, n), d, n)]


def ar_kpis(lines: pl.DataFrame, tx: pl.DataFrame, owners: pl.DataFrame, as_of: date):
    """A/R at D = each period's last day, claim level, from the first period in which the
    scope has a charge or transaction posted. Aging and ar_over_90_share take debit
    balances only; credit balances are ar_credit_balance."""
    moves = pl.concat(
        [
            lines.join(owners, on="claim_id").select(
                "claim_id",
                "posted_date",
                ar=pl.col("charge_amount"),
                charge=pl.col("charge_amount"),
            ),
            tx.select("claim_id", "posted_date", "ar", charge=pl.lit(0.0)),
        ]
    )
    daily = (
        moves.group_by("claim_id", "posted_date")
        .agg(pl.col("ar").sum(), pl.col("charge").sum())
        .join(owners, on="claim_id", how="left")
    )
    starts = (
        _claim_scoped(daily, "posted_date")
        .group_by("period_grain", "scope", "scope_id")
        .agg(first_period=pl.col("period_start").min())
    )
    if daily.is_empty():
        return []
    calendar = periods(daily["posted_date"].min(), as_of)
    out = []
    for grain, start, end in calendar.iter_rows():
        known = daily.filter(pl.col("posted_date") <= end)
        balances = known.group_by("claim_id").agg(
            # Rounded like dbt's decimals, so a settled claim is 0, neither debit nor credit.
            balance=pl.col("ar").sum().round(MONEY_DIGITS),
            recent=pl.col("charge").filter(pl.col("posted_date") > end - timedelta(days=90)).sum(),
            claim_location=pl.col("claim_location").first(),
            claim_provider=pl.col("claim_provider").first(),
            first_service=pl.col("first_service").first(),
        )
        age = (pl.lit(end) - pl.col("first_service")).dt.total_days()
        aged = pl.lit("over_120")
        for name, limit in reversed(AGING[:-1]):
            aged = pl.when(age <= limit).then(pl.lit(name)).otherwise(aged)
        balances = balances.with_columns(
            bucket=pl.when(pl.col("first_service").is_null() | (age < 0))
            .then(pl.lit("0_30"))
            .otherwise(aged),
            period_grain=pl.lit(grain),
            period_start=pl.lit(start),
        )
        out.append(
            with_scopes(balances, "claim_location", "claim_provider")
            .group_by(KEYS)
            .agg(
                balance=pl.col("balance").sum().round(MONEY_DIGITS),
                recent=pl.col("recent").sum().round(MONEY_DIGITS),
                debit=pl.col("balance").filter(pl.col("balance") > 0).sum(),
                credit=-pl.col("balance").filter(pl.col("balance") < 0).sum(),
                **{
                    f"b_{name}": pl.col("balance")
                    .filter((pl.col("bucket") == name) & (pl.col("balance") > 0))
                    .sum()
                    for name, _ in AGING
                },
            )
        )
    by = (
        pl.concat(out)
        .join(starts, on=["period_grain", "scope", "scope_id"])
        .filter(pl.col("period_start") >= pl.col("first_period"))
    )
    bal = pl.col("balance")
    per_day = pl.col("recent") / 90
    over_90 = pl.col("b_91_120") + pl.col("b_over_120")
    debit = pl.col("debit")
    result = [
        rows(by, "ar_balance", bal),
        rows(by, "days_in_ar", ratio(bal, per_day), bal, per_day),
        rows(by, "ar_over_90_share", ratio(over_90, debit), over_90, debit),
        rows(by, "ar_credit_balance", pl.col("credit")),
    ]
    result += [rows(by, f"ar_aging_{name}", pl.col(f"b_{name}")) for name, _ in AGING]
    return result


def net_collection_kpis(lines, tx, owners, as_of: date) -> list[pl.DataFrame]:
    """Service-month cohorts, month grain only, months ending ≥ 90 days before as-of."""
    cohort_lines = lines.join(owners, on="claim_id").select(
        "claim_location",
        "claim_provider",
        cohort=pl.col("service_date").dt.truncate("1mo"),
        charged=pl.col("charge_amount"),
        adjusted=pl.lit(0.0),
        collected=pl.lit(0.0),
    )
    line_month = lines.select("charge_id", line_month=pl.col("service_date").dt.truncate("1mo"))
    cohort_tx = (
        tx.filter(pl.col("first_service").is_not_null())
        .join(line_month, on="charge_id", how="left")
        .select(
            "claim_location",
            "claim_provider",
            cohort=pl.coalesce("line_month", pl.col("first_service").dt.truncate("1mo")),
            charged=pl.lit(0.0),
            adjusted=pl.when(pl.col("transaction_type") == "contractual_adjustment")
            .then(pl.col("amount"))
            .otherwise(0.0),
            collected=pl.col("paid"),
        )
    )
    both = pl.concat([cohort_lines, cohort_tx]).filter(
        pl.col("cohort").dt.offset_by("1mo") - pl.duration(days=1) + pl.duration(days=90)
        <= pl.lit(as_of)
    )
    by = (
        with_scopes(
            both.with_columns(period_grain=pl.lit("month"), period_start=pl.col("cohort")),
            "claim_location",
            "claim_provider",
        )
        .group_by(KEYS)
        .agg(
            collected=pl.col("collected").sum().round(MONEY_DIGITS),
            net=(pl.col("charged").sum() - pl.col("adjusted").sum()).round(MONEY_DIGITS),
        )
    )
    return [
        rows(
            by,
            "net_collection_rate",
            ratio(pl.col("collected"), pl.col("net")),
            pl.col("collected"),
            pl.col("net"),
        )
    ]


def billing_kpis(lake, as_of: date) -> list[pl.DataFrame]:
    lines = charges(lake, as_of)
    owners = claim_owners(lines)
    tx = transactions(lake, as_of, owners)
    out = production_kpis(lines) + payments_kpis(tx) + denial_kpis(tx)
    return out + ar_kpis(lines, tx, owners, as_of) + net_collection_kpis(lines, tx, owners, as_of)
