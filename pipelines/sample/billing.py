"""Charges, claims and the payer and patient money that follows them.

Each completed visit becomes one encounter and one claim with a few lines: the visit's
E/M or preventive code (or a procedure), and the labs, ECGs, vaccines and screenings
that go with it. How the money then moves depends on the payer's financial class:
Medicare pays fast and cuts to its fee schedule, Medicaid pays least and latest, commercial
plans leave copays and deductibles to the patient, self-pay patients get a discount and
often do not pay. Some claims are denied; most of those are reworked and paid later,
the rest written off.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl

from pipelines.core.contracts import FINANCIAL_CLASSES, TRANSACTION_TYPES
from pipelines.sample.calendar import in_flu_season, in_vaccine_season, month_index
from pipelines.sample.ids import Counters, prefixed
from pipelines.sample.reference import PAYERS
from pipelines.sample.scheduling import ESTABLISHED, NEW, PHYSICAL, PROCEDURE, TELEHEALTH

# The practice's fee schedule: about 2.2 × the 2025 Medicare non-facility rate (total
# RVUs × 32.3465), rounded to whole dollars; lab and vaccine codes without RVUs have
# list prices. Modifiers 25 and 95 do not change the fee.
FEES: dict[tuple[str, str], float] = {
    **{(c, ""): f for c, f in {
        "99202": 154, "99203": 240, "99204": 359, "99205": 475, "99211": 50, "99212": 121,
        "99213": 196, "99214": 275, "99215": 386, "99381": 233, "99382": 245, "99383": 254,
        "99384": 285, "99385": 278, "99386": 320, "99387": 347, "99391": 209, "99392": 223,
        "99393": 223, "99394": 243, "99395": 250, "99396": 266, "99397": 287, "G0438": 353,
        "G0439": 278, "G2211": 34, "36415": 25, "80053": 48, "85025": 32, "83036": 39,
        "81002": 18, "87880": 42, "87804": 45, "93000": 31, "93005": 14, "93010": 17,
        "90471": 44, "90472": 31, "90686": 42, "90715": 58, "96127": 10, "99406": 31,
        "96372": 31, "J3420": 12, "J1100": 9, "17110": 242, "11200": 199, "20610": 139,
        "69210": 102,
        # Not in the CMS file on purpose: a code retired in 2021, a retired counselling
        # code and a practice-local supply code. They must surface as unmatched wRVUs.
        "99201": 95, "99420": 40, "ZZ001": 15,
    }.items()},
    ("71046", "26"): 22,
}  # fmt: skip
CODES_ABSENT_FROM_RVU_FILE = ("99201", "99420", "ZZ001")
PREVENTIVE = {
    *(f"9938{i}" for i in range(1, 8)),
    *(f"9939{i}" for i in range(1, 8)),
    "G0438", "G0439", "90471", "90472", "90686", "90715",
}  # fmt: skip
OFFICE_VISITS = {"99202", "99203", "99204", "99205", "99211", "99212", "99213", "99214", "99215"}

COMMERCIAL, MEDICARE, MEDICAID, SELF_PAY, OTHER = (
    FINANCIAL_CLASSES.index(c) for c in ("commercial", "medicare", "medicaid", "self_pay", "other")
)
# Per financial class, in FINANCIAL_CLASSES order.
RESPONSE_MEDIAN_DAYS = np.array([16.0, 15.0, 28.0, 1.0, 30.0])
RESPONSE_SIGMA = np.array([0.35, 0.15, 0.5, 0.0, 0.5])
P_CLAIM_DENIAL = np.array([0.06, 0.04, 0.09, 0.0, 0.10])
P_LINE_DENIAL = np.array([0.04, 0.04, 0.05, 0.0, 0.05])
P_PATIENT_PAYS = np.array([0.85, 0.9, 0.6, 0.55, 0.8])
CLAIM_DENIALS = (("CO-16", "CO-27", "CO-31", "CO-197", "CO-18"), (0.35, 0.2, 0.2, 0.17, 0.08))
LINE_DENIALS = (("CO-97", "CO-50", "CO-96"), (0.6, 0.25, 0.15))
P_REWORKED = 0.75
SELF_PAY_DISCOUNT = 0.4
P_REFUND = 0.004


@dataclass(frozen=True)
class Billing:
    charges: pl.DataFrame
    claims: pl.DataFrame
    transactions: pl.DataFrame
    payments_by_month: pl.DataFrame  # location_id, month, payments (for the budget)


# Codes, modifiers and reasons travel as indices into these sorted tables: numpy
# string arrays are slow to hand to polars, integers are not.
CODES = tuple(sorted({code for code, _ in FEES}))
MODIFIERS = ("", "25", "26", "95")
REASONS = tuple(sorted({"", "CO-45", "PR-1", "PR-2", "PR-3", *CLAIM_DENIALS[0], *LINE_DENIALS[0]}))


def _index(table: tuple[str, ...], values: np.ndarray) -> np.ndarray:
    return np.searchsorted(np.array(table), np.asarray(values).astype(str))


def _pick(rng, size, codes, probs) -> np.ndarray:
    return rng.choice(np.array(codes), size=size, p=probs)


def _lines(rng: np.random.Generator, visits: pl.DataFrame) -> pl.DataFrame:
    """Claim lines of each visit: (visit index, line order, code, modifier, units)."""
    n = visits.height
    kind = visits["type_index"].to_numpy()
    day = visits["service_date"].to_numpy().astype("datetime64[D]")
    payer_class = visits["class_index"].to_numpy()
    in_person = kind != TELEHEALTH
    physical = kind == PHYSICAL
    parts: list[tuple[np.ndarray, int, np.ndarray, np.ndarray, np.ndarray]] = []

    def add(mask, order, code, modifier="", units=1):
        idx = np.nonzero(mask)[0]

        def values(v, dtype):
            return v[idx] if isinstance(v, np.ndarray) else np.full(len(idx), v, dtype=dtype)

        code_index = _index(CODES, values(code, object))
        modifier_index = _index(MODIFIERS, values(modifier, object))
        parts.append((idx, order, code_index, modifier_index, values(units, np.int64)))

    primary = np.full(n, "99213", dtype=object)
    for mask, codes, probs in (
        (kind == NEW, ("99202", "99203", "99204", "99205"), (0.06, 0.42, 0.42, 0.10)),
        (kind == ESTABLISHED, ("99211", "99212", "99213", "99214", "99215"),
         (0.03, 0.09, 0.46, 0.36, 0.06)),
        (kind == TELEHEALTH, ("99212", "99213", "99214"), (0.2, 0.55, 0.25)),
        (kind == PROCEDURE, ("17110", "11200", "20610", "69210", "93000"),
         (0.3, 0.15, 0.25, 0.2, 0.1)),
    ):  # fmt: skip
        primary[mask] = _pick(rng, int(mask.sum()), codes, probs)
    # Medicare covers its annual wellness visit, not the preventive E/M codes.
    wellness = physical & (payer_class == MEDICARE) & (rng.random(n) < 0.85)
    primary[wellness] = _pick(rng, int(wellness.sum()), ("G0439", "G0438"), (0.85, 0.15))
    preventive = physical & ~wellness
    new_to_practice = rng.random(n) < 0.1
    age_band = (0.02, 0.03, 0.04, 0.06, 0.25, 0.32, 0.28)
    for mask, prefix in (
        (preventive & ~new_to_practice, "9939"),
        (preventive & new_to_practice, "9938"),
    ):
        codes = [f"{prefix}{i}" for i in range(1, 8)]
        primary[mask] = _pick(rng, int(mask.sum()), codes, age_band)
    primary = primary.astype(str)

    vaccine = in_person & in_vaccine_season(day) & (rng.random(n) < np.where(physical, 0.35, 0.2))
    tdap = in_person & (rng.random(n) < 0.02)
    injection = in_person & (rng.random(n) < 0.008)
    # Modifier 25: a separately identifiable E/M on the day of a procedure or injection;
    # modifier 95: synchronous telehealth (the RVU file has no row for it, so lookups
    # fall back to the code's row without modifier).
    modifier = np.where(kind == TELEHEALTH, "95", "")
    office = np.isin(primary, list(OFFICE_VISITS))
    modifier = np.where(office & (vaccine | injection) & (rng.random(n) < 0.5), "25", modifier)
    add(np.ones(n, bool), 0, primary, modifier)
    add((kind == PROCEDURE) & (rng.random(n) < 0.45), 1,
        _pick(rng, n, ("99213", "99214"), (0.6, 0.4)), "25")  # fmt: skip

    p_blood = np.select([physical, kind == NEW, kind == ESTABLISHED], [0.45, 0.2, 0.15], 0.05)
    venipuncture = in_person & (rng.random(n) < p_blood)
    add(venipuncture, 2, "36415")
    add(venipuncture & (rng.random(n) < 0.55), 3, "80053")
    add(venipuncture & (rng.random(n) < 0.45), 4, "85025")
    add(venipuncture & (rng.random(n) < 0.3), 5, "83036")
    add(in_person & (rng.random(n) < 0.04), 6, "81002")
    sick = in_flu_season(day) & np.isin(kind, [NEW, ESTABLISHED])
    add(sick & (rng.random(n) < 0.06), 7, "87880")
    add(sick & (rng.random(n) < 0.07), 8, "87804")
    # An ECG done and read here is 93000; tracing only plus a separate read is 93005 + 93010.
    ecg = in_person & (kind != PROCEDURE) & (rng.random(n) < 0.035)
    split_ecg = ecg & (rng.random(n) < 0.25)
    add(ecg & ~split_ecg, 9, "93000")
    add(split_ecg, 9, "93005")
    add(split_ecg, 10, "93010")
    add(in_person & (rng.random(n) < 0.012), 11, "71046", "26")  # reading an outside film
    add(vaccine, 12, "90686")
    add(vaccine, 13, "90471")
    add(tdap, 14, "90715")
    add(tdap, 15, np.where(vaccine, "90472", "90471"))
    screening = (physical & (rng.random(n) < 0.3)) | ((kind == NEW) & (rng.random(n) < 0.1))
    add(screening, 16, "96127", units=rng.integers(1, 3, n))
    chronic = (payer_class == MEDICARE) & np.isin(kind, [ESTABLISHED, TELEHEALTH])
    add(chronic & (rng.random(n) < 0.45), 17, "G2211")
    add(rng.random(n) < 0.015, 18, "99406")
    add(injection, 19, "96372")
    add(injection, 20, np.where(rng.random(n) < 0.5, "J3420", "J1100"),
        units=rng.integers(1, 3, n))  # fmt: skip
    rare = rng.random(n)
    add(rare < 0.0008, 21, "99201")
    add((rare >= 0.0008) & (rare < 0.0013), 21, "99420")
    add((rare >= 0.0013) & (rare < 0.0021), 22, "ZZ001", units=rng.integers(1, 4, n))

    return pl.DataFrame(
        {
            "visit": np.concatenate([p[0] for p in parts]),
            "line_order": np.concatenate([np.full(len(p[0]), p[1]) for p in parts]),
            "cpt_code": pl.Series(CODES).gather(np.concatenate([p[2] for p in parts])),
            "modifier": pl.Series(MODIFIERS).gather(np.concatenate([p[3] for p in parts])),
            "units": np.concatenate([p[4] for p in parts]),
        }
    ).sort("visit", "line_order")


def _fee_table() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "cpt_code": [k[0] for k in FEES],
            "fee_modifier": [k[1] for k in FEES],
            "fee": [float(v) for v in FEES.values()],
        }
    )


def bill(
    rng: np.random.Generator, appointments: pl.DataFrame, end: date, counters: Counters
) -> Billing:
    """Bill the completed visits of one chunk; keep only what was posted by `end`."""
    payer_class = [FINANCIAL_CLASSES.index(p.financial_class) for p in PAYERS]
    visits = (
        appointments.filter(pl.col("status") == "completed")
        .select(
            "encounter_id",
            "patient_id",
            "provider_id",
            "location_id",
            "type_index",
            "payer_index",
            service_date=pl.col("scheduled_start").dt.date(),
        )  # fmt: skip
        .with_columns(
            class_index=pl.col("payer_index").replace_strict(
                list(range(len(PAYERS))), payer_class, return_dtype=pl.Int64
            ),
            payer_id=pl.col("payer_index").replace_strict(
                list(range(len(PAYERS))), [p.payer_id for p in PAYERS]
            ),
        )
        .with_row_index("visit")
        .with_columns(pl.col("visit").cast(pl.Int64))
    )
    n = visits.height
    lines = _lines(rng, visits)
    visit_of_line = lines["visit"].to_numpy()
    service = visits["service_date"].to_numpy().astype("datetime64[D]")
    lag = rng.choice(8, size=n, p=[0.22, 0.3, 0.18, 0.1, 0.07, 0.05, 0.04, 0.04])
    lag = np.where(rng.random(n) < 0.015, rng.integers(10, 46, n), lag)
    late_line = rng.random(len(visit_of_line)) < 0.01
    extra = np.where(late_line, rng.integers(1, 11, len(visit_of_line)), 0)
    posted = service[visit_of_line] + lag[visit_of_line] + extra
    charges = (
        lines.with_columns(
            fee_modifier=pl.when(pl.col("modifier").is_in(["25", "95"]))
            .then(pl.lit(""))
            .otherwise("modifier"),
            posted_date=pl.Series(posted).cast(pl.Date),
        )
        .join(_fee_table(), on=["cpt_code", "fee_modifier"], how="left", maintain_order="left")
        .with_columns(charge_amount=pl.col("fee") * pl.col("units"))
        .filter(pl.col("posted_date") <= end)
    )
    # One claim per billed encounter, numbered in encounter order.
    billed = np.unique(charges["visit"].to_numpy())
    claim_of_visit = np.full(n, -1, dtype=np.int64)
    claim_of_visit[billed] = np.arange(len(billed))
    claim_ids = prefixed(pl.lit(pl.Series(counters.take("claim", len(billed)))), "CL", 9)
    claims = visits[billed].with_columns(claim_id=claim_ids).with_row_index("claim")
    charges = charges.with_columns(
        claim=pl.Series(claim_of_visit[charges["visit"].to_numpy()], dtype=pl.UInt32),
        charge_id=prefixed(pl.lit(pl.Series(counters.take("charge", charges.height))), "C", 10),
    ).join(visits, on="visit", how="left", maintain_order="left")
    charges = charges.with_columns(claim_id=claims["claim_id"].gather(charges["claim"]))
    # A claim goes out once its lines are posted, within a couple of days.
    last_posted = charges.group_by("claim").agg(pl.col("posted_date").max()).sort("claim")
    submitted = np.minimum(
        last_posted["posted_date"].to_numpy().astype("datetime64[D]")
        + rng.choice(3, len(billed), p=[0.5, 0.35, 0.15]),
        np.datetime64(end),
    )
    claims = claims.with_columns(submitted_date=pl.Series(submitted).cast(pl.Date))
    transactions = _transactions(rng, charges, claims, end, counters)
    payments = (
        transactions.join(claims.select("claim_id", "location_id"), on="claim_id")
        .filter(pl.col("transaction_type").is_in(["payer_payment", "patient_payment", "refund"]))
        .group_by("location_id", month=pl.col("posted_date").dt.truncate("1mo"))
        .agg(
            payments=pl.when(pl.col("transaction_type") == "refund")
            .then(-pl.col("amount"))
            .otherwise("amount")
            .sum()
        )
    )
    return Billing(
        charges=charges.select(
            "charge_id",
            "claim_id",
            "encounter_id",
            "patient_id",
            pl.col("provider_id").alias("rendering_provider_id"),
            "location_id",
            "payer_id",
            "service_date",
            "posted_date",
            "cpt_code",
            modifier=pl.when(pl.col("modifier") != "").then("modifier"),
            units="units",
            charge_amount="charge_amount",
        ),  # fmt: skip
        claims=claims.select("claim_id", "payer_id", "submitted_date"),
        transactions=transactions,
        payments_by_month=payments,
    )


def _days(rng: np.random.Generator, low: int, high: int, n: int) -> np.ndarray:
    return rng.integers(low, high + 1, n) * np.timedelta64(1, "D")


def _transactions(
    rng: np.random.Generator,
    charges: pl.DataFrame,
    claims: pl.DataFrame,
    end: date,
    counters: Counters,
) -> pl.DataFrame:
    """Payer responses, patient payments, write-offs and refunds, as of `end`."""
    nc = claims.height
    nl = charges.height
    claim_of = charges["claim"].to_numpy().astype(np.int64)
    amount = charges["charge_amount"].to_numpy()
    code = charges["cpt_code"].to_numpy()
    payer = claims["payer_index"].to_numpy()
    cls = claims["class_index"].to_numpy()
    service = claims["service_date"].to_numpy().astype("datetime64[D]")
    submitted = claims["submitted_date"].to_numpy().astype("datetime64[D]")
    insured = cls != SELF_PAY
    nat = np.datetime64("NaT", "D")
    tx: list[dict[str, np.ndarray]] = []

    def emit(claim, line, when, kind, value, reason=""):
        k = len(claim)
        tx.append(
            {
                "claim": claim.astype(np.int64),
                "line": np.broadcast_to(line, k).astype(np.int64),
                "posted": np.broadcast_to(when, k).astype("datetime64[D]"),
                "type": np.full(k, TRANSACTION_TYPES.index(kind)),
                "amount": np.round(np.broadcast_to(value, k).astype(np.float64), 2),
                "reason": np.broadcast_to(_index(REASONS, reason), k),
            }
        )

    # The payer's first response: a payment, or a denial of the claim or of one line.
    lag = np.round(rng.lognormal(np.log(RESPONSE_MEDIAN_DAYS[cls]), RESPONSE_SIGMA[cls]))
    responded = submitted + lag.astype(np.int64) * np.timedelta64(1, "D")
    claim_denied = insured & (rng.random(nc) < P_CLAIM_DENIAL[cls])
    claim_reason = _pick(rng, nc, *CLAIM_DENIALS)
    reworked = rng.random(nc) < P_REWORKED
    paid_on = np.where(claim_denied, np.where(reworked, responded + _days(rng, 20, 60, nc), nat),
                       responded)  # fmt: skip
    paid_on = np.where(insured, paid_on, nat)
    c = np.nonzero(claim_denied)[0]
    emit(c, -1, responded[c], "denial", 0.0, claim_reason[c])

    lines_per_claim = np.bincount(claim_of, minlength=nc)
    first_line = np.cumsum(lines_per_claim) - lines_per_claim
    line_denial = insured & ~claim_denied & (rng.random(nc) < P_LINE_DENIAL[cls])
    c = np.nonzero(line_denial)[0]
    denied_line = first_line[c] + np.floor(rng.random(len(c)) * lines_per_claim[c]).astype(int)
    line_reason = _pick(rng, len(c), *LINE_DENIALS)
    appealed = (line_reason == "CO-50") & (rng.random(len(c)) < 0.4)
    emit(c, denied_line, responded[c], "denial", 0.0, line_reason)
    line_paid_on = paid_on[claim_of]
    line_paid_on[denied_line] = np.where(appealed, responded[c] + _days(rng, 25, 70, len(c)), nat)
    lost = ~appealed
    emit(c[lost], denied_line[lost], responded[c[lost]] + _days(rng, 10, 45, int(lost.sum())),
         "write_off", amount[denied_line[lost]], line_reason[lost])  # fmt: skip

    # What the payer allows, and the patient's share of it (deductible, coinsurance, copay).
    ratio = np.array([p.allowed_ratio for p in PAYERS])[payer][claim_of]
    allowed = np.round(amount * np.minimum(ratio * rng.uniform(0.96, 1.03, nl), 1.0), 2)
    month = month_index(service)
    deductible = insured & np.select(
        [cls == COMMERCIAL, cls == MEDICARE],
        [rng.random(nc) < np.where(month <= 2, 0.35, 0.07),
         rng.random(nc) < np.where(month <= 1, 0.35, 0.0)],
        False,
    )  # fmt: skip
    coinsurance = ~deductible & ((cls == MEDICARE) | ((cls == COMMERCIAL) & (rng.random(nc) < 0.2)))
    is_primary = np.zeros(nl, bool)
    is_primary[first_line] = True
    office = np.isin(code, list(OFFICE_VISITS)) & is_primary
    has_copay = ~deductible & ((cls == COMMERCIAL) | ((cls == MEDICAID) & (rng.random(nc) < 0.3)))
    copay = np.where(cls == MEDICAID, 4.0, rng.choice([20.0, 30.0, 40.0], nc))
    shared = ~np.isin(code, list(PREVENTIVE))
    lc = claim_of
    patient_share = np.select(
        [deductible[lc] & shared, has_copay[lc] & office, coinsurance[lc] & shared],
        [allowed * rng.uniform(0.6, 1.0, nl), np.minimum(copay[lc], allowed), 0.2 * allowed],
        0.0,
    )
    patient_share = np.round(patient_share, 2)
    pr_code = np.select([deductible, coinsurance, has_copay], ["PR-1", "PR-2", "PR-3"], "")

    paid = ~np.isnat(line_paid_on)
    line_level = np.array([p.line_level for p in PAYERS])[payer][claim_of]
    for level, line in ((True, np.arange(nl)), (False, np.full(nl, -1))):
        keep = paid & (line_level == level)
        emit(claim_of[keep], line[keep], line_paid_on[keep], "contractual_adjustment",
             amount[keep] - allowed[keep], "CO-45")  # fmt: skip
        emit(claim_of[keep], line[keep], line_paid_on[keep], "payer_payment",
             allowed[keep] - patient_share[keep])  # fmt: skip

    # Denied claims that were never reworked are written off, less any copay in hand.
    copay_at_visit = has_copay & (rng.random(nc) < 0.65)
    at_visit = np.where(copay_at_visit, copay, 0.0)
    c = np.nonzero(copay_at_visit)[0]
    emit(c, -1, service[c], "patient_payment", at_visit[c], "PR-3")
    claim_total = np.bincount(claim_of, weights=amount, minlength=nc)
    c = np.nonzero(claim_denied & ~reworked)[0]
    emit(c, -1, responded[c] + _days(rng, 30, 90, len(c)), "write_off",
         claim_total[c] - at_visit[c], claim_reason[c])  # fmt: skip

    # The patient's statement: paid, or written off (small balances at once, else as bad debt).
    owed = np.bincount(claim_of, weights=np.where(paid, patient_share, 0.0), minlength=nc)
    owed = np.round(owed - at_visit, 2)
    billed_on = np.where(insured, paid_on, submitted)
    discount = np.where(insured, 0.0, np.round(claim_total * SELF_PAY_DISCOUNT, 2))
    c = np.nonzero(~insured)[0]
    emit(c, -1, submitted[c], "contractual_adjustment", discount[c])
    owed = np.where(insured, owed, claim_total - discount)
    statement = ~np.isnat(billed_on) & (owed > 0)
    pays = statement & (rng.random(nc) < P_PATIENT_PAYS[cls])
    c = np.nonzero(pays)[0]
    emit(c, -1, billed_on[c] + _days(rng, 10, 60, len(c)), "patient_payment", owed[c], pr_code[c])
    c = np.nonzero(statement & ~pays)[0]
    small = owed[c] < 10
    emit(c, -1, billed_on[c] + np.where(small, 30, 120) * np.timedelta64(1, "D")
         + _days(rng, 0, 30, len(c)), "write_off", owed[c])  # fmt: skip

    # A payer that pays a claim twice, and refunds it later: a credit balance meanwhile.
    candidates = np.nonzero(insured & ~np.isnat(paid_on) & (paid_on <= np.datetime64(end) - 25))[0]
    n_refunds = min(len(candidates), max(2, int(rng.binomial(nc, P_REFUND))))
    c = np.sort(rng.choice(candidates, n_refunds, replace=False))
    payer_paid = np.bincount(
        claim_of, weights=np.where(paid, allowed - patient_share, 0.0), minlength=nc
    )
    twice_on = paid_on[c] + _days(rng, 3, 20, len(c))
    emit(c, -1, twice_on, "payer_payment", payer_paid[c])
    emit(c, -1, twice_on + _days(rng, 5, 40, len(c)), "refund", payer_paid[c])

    frame = pl.concat([pl.DataFrame(part) for part in tx])
    denial = TRANSACTION_TYPES.index("denial")
    frame = frame.with_columns(posted_date=pl.col("posted").cast(pl.Date)).filter(
        pl.col("posted_date") <= end, (pl.col("amount") > 0) | (pl.col("type") == denial)
    )
    # Claim-level remits arrive as one amount per claim, type and day.
    columns = ["claim", "line", "posted_date", "type", "reason", "amount"]
    claim_level = (
        frame.filter(pl.col("line") < 0)
        .group_by("claim", "line", "posted_date", "type", "reason")
        .agg(pl.col("amount").sum().round(2))
    )
    frame = pl.concat(
        [frame.filter(pl.col("line") >= 0).select(columns), claim_level.select(columns)]
    ).sort("posted_date", "claim", "type", "line", "reason")
    reasons = pl.Series(REASONS).gather(frame["reason"])
    line = frame["line"]
    return frame.with_columns(
        transaction_id=prefixed(pl.lit(pl.Series(counters.take("transaction", frame.height))),
                                "T", 10),  # fmt: skip
        claim_id=claims["claim_id"].gather(frame["claim"]),
        charge_id=pl.when(line >= 0).then(charges["charge_id"].gather(line.clip(lower_bound=0))),
        transaction_type=pl.Series(TRANSACTION_TYPES).gather(frame["type"]),
        reason_code=pl.when(reasons != "").then(reasons),
    ).select(
        "transaction_id", "claim_id", "charge_id", "posted_date", "transaction_type", "amount",
        "reason_code",
    )  # fmt: skip
