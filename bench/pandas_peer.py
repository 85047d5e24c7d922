"""The user's alternative: a practice's analyst computing every KPI with a pandas script.

`python -m bench.pandas_peer OUT.parquet INBOX [INBOX ...]` reads the contract CSVs of
the inboxes, rejects the rows that break the contract rules that move a number, keeps
the newest version of each key (later inbox, later file, later line wins), and computes
every KPI of KPI_SPEC.md at week and month grain for the practice, each location and
each provider, as one long table (period_grain, period_start, scope, scope_id, kpi,
value). Written plainly, as the analyst would write it: whole files in memory, groupby
per KPI, a Python loop where the definition is a loop (third-next-available). It is
deliberately not optimised: it is the peer `clinicops run` is timed against
(bench/run.py), and a fair peer only if it computes the same numbers
(tests/bench/test_pandas_peer.py). It leaves out what a one-off script would: history,
pseudonymisation, the `complete` flag, targets and quarter/year grains.
"""

from __future__ import annotations

import re
import sys
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

RVU_SEED = Path(__file__).resolve().parent.parent / "dbt_project" / "seeds" / "cms_pfs_rvu_2025.csv"
KEYS = {
    "locations": ["location_id"],
    "payers": ["payer_id"],
    "appointments": ["appointment_id"],
    "provider_slots": ["provider_id", "slot_start"],
    "charges": ["charge_id"],
    "claims": ["claim_id"],
    "transactions": ["transaction_id"],
    "staff": ["employee_id"],
    "timesheets": ["employee_id", "pay_period_start"],
    "gl_expenses": ["month", "location_id", "account"],
    "budget": ["month", "location_id", "line"],
}
REQUIRED = {
    "locations": ["location_id", "location_name"],
    "payers": ["payer_id", "payer_name", "financial_class"],
    "appointments": [
        "appointment_id", "patient_id", "provider_id", "location_id", "appointment_type",
        "booked_at", "scheduled_start", "scheduled_minutes", "status",
    ],
    "provider_slots": ["provider_id", "location_id", "slot_start", "slot_minutes"],
    "charges": [
        "charge_id", "claim_id", "patient_id", "rendering_provider_id", "location_id",
        "payer_id", "service_date", "posted_date", "cpt_code", "units", "charge_amount",
    ],
    "claims": ["claim_id", "payer_id", "submitted_date"],
    "transactions": ["transaction_id", "claim_id", "posted_date", "transaction_type", "amount"],
    "staff": ["employee_id", "role", "location_id", "fte", "hire_date"],
    "timesheets": [
        "employee_id", "pay_period_start", "pay_period_end", "regular_hours",
        "overtime_hours", "pto_hours", "gross_pay",
    ],
    "gl_expenses": ["month", "location_id", "account", "amount"],
    "budget": ["month", "location_id", "line", "amount"],
}  # fmt: skip
ENUMS = {
    ("appointments", "status"): {"scheduled", "completed", "no_show", "cancelled"},
    ("payers", "financial_class"): {"commercial", "medicare", "medicaid", "self_pay", "other"},
    ("transactions", "transaction_type"): {
        "payer_payment", "patient_payment", "contractual_adjustment", "write_off", "denial",
        "refund",
    },
    ("staff", "role"): {
        "physician", "nurse_practitioner", "physician_assistant", "registered_nurse",
        "medical_assistant", "front_desk", "billing", "manager", "other",
    },
}  # fmt: skip
TIMESTAMPS = {
    "appointments": [
        "booked_at", "scheduled_start", "cancelled_at", "checked_in_at", "roomed_at",
        "provider_start_at", "checked_out_at",
    ],
    "provider_slots": ["slot_start"],
}  # fmt: skip
DATES = {
    "charges": ["service_date", "posted_date"],
    "claims": ["submitted_date"],
    "transactions": ["posted_date"],
    "staff": ["hire_date", "termination_date"],
    "timesheets": ["pay_period_start", "pay_period_end"],
}
NUMBERS = {
    "appointments": ["scheduled_minutes"],
    "provider_slots": ["slot_minutes"],
    "charges": ["units", "charge_amount"],
    "transactions": ["amount"],
    "staff": ["fte"],
    "timesheets": [
        "regular_hours", "overtime_hours", "pto_hours", "gross_pay", "benefits_cost",
    ],
    "gl_expenses": ["amount"],
    "budget": ["amount"],
}  # fmt: skip
NON_NEGATIVE = {
    "charges": ["charge_amount"],
    "transactions": ["amount"],
    "timesheets": ["regular_hours", "overtime_hours", "pto_hours", "gross_pay", "benefits_cost"],
    "gl_expenses": ["amount"],
}
POSITIVE = {"appointments": ["scheduled_minutes"], "provider_slots": ["slot_minutes"],
            "charges": ["units"]}  # fmt: skip
CLINICIANS = {"physician", "nurse_practitioner", "physician_assistant"}
OFFSET = re.compile(r"(?:Z|[+-]\d{2}:?\d{2})$")
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$")
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


# ---------------------------------------------------------------- read and validate


def read_entity(inboxes: list[Path], entity: str) -> pd.DataFrame:
    """Every file of the entity, in delivery order, as text; the newest version per key."""
    frames = []
    for inbox in inboxes:
        files = sorted(
            (p for p in inbox.rglob("*.csv*") if p.name.split(".")[0].split("_20")[0] == entity),
            key=lambda p: p.name,
        )
        for path in files:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False)
            frame.columns = [c.strip().lower() for c in frame.columns]
            frames.append(validate(frame, entity))
    if not frames:
        return pd.DataFrame(columns=REQUIRED[entity])
    rows = pd.concat(frames, ignore_index=True)
    return rows.drop_duplicates(KEYS[entity], keep="last").reset_index(drop=True)


def validate(frame: pd.DataFrame, entity: str) -> pd.DataFrame:
    """Drop the rows that break the contract rules (CONTRACTS.md, "Validation at landing")."""
    frame = frame.apply(lambda column: column.str.strip())
    bad = pd.Series(False, index=frame.index)
    for column in REQUIRED[entity]:
        bad |= frame[column] == ""
    for (name, column), allowed in ENUMS.items():
        if name == entity:
            frame[column] = frame[column].str.lower()
            bad |= ~frame[column].isin(allowed)
    for column in TIMESTAMPS.get(entity, []):
        bad |= (frame[column] != "") & ~frame[column].str.match(TIMESTAMP)
    for column in DATES.get(entity, []):
        bad |= (frame[column] != "") & ~frame[column].str.match(DATE)
    for column in NUMBERS.get(entity, []):
        bad |= (frame[column] != "") & ~frame[column].str.match(NUMBER)
    frame = frame[~bad].copy()
    for column in NUMBERS.get(entity, []):
        frame[column] = pd.to_numeric(frame[column].replace("", None))
    for column in DATES.get(entity, []):
        frame[column] = pd.to_datetime(frame[column].replace("", None), format="%Y-%m-%d")
    bad = pd.Series(False, index=frame.index)
    for column in NON_NEGATIVE.get(entity, []):
        bad |= frame[column] < 0
    for column in POSITIVE.get(entity, []):
        bad |= frame[column] <= 0
    if entity == "staff":
        bad |= (frame["fte"] <= 0) | (frame["fte"] > 1)
    if entity == "charges":
        bad |= frame["cpt_code"].str.len() != 5
        bad |= frame["posted_date"] < frame["service_date"]
        frame["cpt_code"] = frame["cpt_code"].str.upper()
        frame["modifier"] = frame["modifier"].str.upper()
    if entity == "timesheets":
        bad |= frame["pay_period_end"] < frame["pay_period_start"]
    if entity == "appointments":
        bad |= (frame["status"] == "cancelled") & (frame["cancelled_at"] == "")
    return frame[~bad]


def local_times(frame: pd.DataFrame, columns: list[str], zones: dict[str, str]) -> pd.DataFrame:
    """Timestamps as local wall time: an offset is converted to the location's timezone."""
    zone = frame["location_id"].map(zones).fillna("")
    for column in columns:
        text = frame[column].replace("", None)
        out = pd.to_datetime(
            text.where(~text.fillna("").str.contains(OFFSET)).str.replace("T", " "),
            format="ISO8601",
        )
        has_offset = text.fillna("").str.contains(OFFSET)
        for tz in zone[has_offset].unique():
            rows = has_offset & (zone == tz)
            moment = pd.to_datetime(text[rows], format="ISO8601", utc=True)
            out[rows] = (moment.dt.tz_convert(tz) if tz else moment).dt.tz_localize(None)
        frame[column] = out
    return frame


def load(inboxes: list[Path]) -> dict[str, pd.DataFrame]:
    data = {entity: read_entity(inboxes, entity) for entity in KEYS}
    zones = dict(zip(data["locations"]["location_id"], data["locations"]["timezone"], strict=False))
    for entity, columns in TIMESTAMPS.items():
        data[entity] = local_times(data[entity], columns, zones)
    return data


# ---------------------------------------------------------------- periods and scopes

GRAINS = {"week": "W-SUN", "month": "M"}


def period_start(days: pd.Series, grain: str) -> pd.Series:
    return days.dt.to_period(GRAINS[grain]).dt.start_time


def period_end(starts: pd.Series, grain: str, as_of: pd.Timestamp) -> pd.Series:
    ends = starts.dt.to_period(GRAINS[grain]).dt.end_time.dt.normalize()
    return ends.where(ends < as_of, as_of)


def scoped(frame: pd.DataFrame, location: str | None, provider: str | None) -> list[pd.DataFrame]:
    """The rows once per scope: practice, location, provider (where the row has one)."""
    out = [frame.assign(scope="practice", scope_id="all")]
    if location:
        out.append(frame.assign(scope="location", scope_id=frame[location]))
    if provider:
        out.append(frame.assign(scope="provider", scope_id=frame[provider]))
    return [part[part["scope_id"].notna()] for part in out]


def by_period(frame, day, location, provider, as_of, grains=("week", "month")):
    """Each row once per (grain, period, scope): the fan-out every KPI groups over."""
    frame = frame[frame[day] <= as_of]
    parts = []
    for grain in grains:
        dated = frame.assign(period_grain=grain, period_start=period_start(frame[day], grain))
        parts.extend(scoped(dated, location, provider))
    if not parts:
        return frame.assign(period_grain="", period_start=pd.NaT, scope="", scope_id="")
    return pd.concat(parts, ignore_index=True)


KEY = ["period_grain", "period_start", "scope", "scope_id"]


def long(frame: pd.DataFrame, **kpis: str) -> pd.DataFrame:
    """KPI columns of a wide per-period frame as long rows."""
    parts = [
        frame[KEY].assign(kpi=name, value=frame[column].astype(float))
        for name, column in kpis.items()
    ]
    return pd.concat(parts, ignore_index=True)


def ratio(numerator, denominator):
    denominator = denominator.astype(float)
    return numerator / denominator.where(denominator != 0)


def quantiles(frame: pd.DataFrame, column: str, name: str) -> list[pd.DataFrame]:
    grouped = frame.groupby(KEY)[column]
    out = []
    for q, suffix in ((0.5, "p50"), (0.9, "p90")):
        values = grouped.quantile(q).rename("value").reset_index()
        out.append(values.assign(kpi=f"{name}_{suffix}"))
    return out


# ---------------------------------------------------------------- KPIs


def access_kpis(data: dict[str, pd.DataFrame], as_of: pd.Timestamp) -> list[pd.DataFrame]:
    appts = data["appointments"].copy()
    appts["day"] = appts["scheduled_start"].dt.normalize()
    rows = by_period(appts, "day", "location_id", "provider_id", as_of)
    rows["completed"] = rows["status"] == "completed"
    rows["no_show"] = rows["status"] == "no_show"
    rows["late_cancel"] = (rows["status"] == "cancelled") & (
        rows["cancelled_at"] > rows["scheduled_start"] - pd.Timedelta(hours=24)
    )
    counts = rows.groupby(KEY)[["completed", "no_show", "late_cancel"]].sum().reset_index()
    counts["no_show_rate"] = ratio(counts["no_show"], counts["completed"] + counts["no_show"])
    counts["late_cancel_rate"] = ratio(
        counts["late_cancel"], counts["completed"] + counts["no_show"] + counts["late_cancel"]
    )
    out = [
        long(
            counts,
            completed_visits="completed",
            no_show_rate="no_show_rate",
            late_cancel_rate="late_cancel_rate",
        )
    ]
    new = rows[
        rows["status"].isin(["completed", "no_show"]) & (rows["appointment_type"] == "new_patient")
    ]
    lead = (new["scheduled_start"] - new["booked_at"]).dt.total_seconds() / 86400
    out.append(
        new.assign(lead=lead)
        .groupby(KEY)["lead"]
        .median()
        .rename("value")
        .reset_index()
        .assign(kpi="new_patient_lead_time_days")
    )
    done = rows[rows["completed"]]
    for name, start, end in (
        ("lobby_wait_min", "checked_in_at", "roomed_at"),
        ("wait_for_provider_min", "checked_in_at", "provider_start_at"),
        ("cycle_time_min", "checked_in_at", "checked_out_at"),
    ):
        minutes = (done[end] - done[start]).dt.total_seconds() / 60
        ok = done.assign(minutes=minutes)[(minutes >= 0) & (minutes <= 720)]
        out.extend(quantiles(ok, "minutes", name))
    out.append(utilization(data, rows, as_of))
    out.append(third_next_available(data, as_of))
    return out


def utilization(data, rows, as_of) -> pd.DataFrame:
    booked = rows[rows["status"].isin(["completed", "no_show"])]
    booked = booked.groupby(KEY)["scheduled_minutes"].sum().rename("booked")
    slots = data["provider_slots"].copy()
    slots["day"] = slots["slot_start"].dt.normalize()
    slot_rows = by_period(slots, "day", "location_id", "provider_id", as_of)
    offered = slot_rows.groupby(KEY)["slot_minutes"].sum().rename("offered")
    both = pd.concat([booked, offered], axis=1).reset_index()
    both["value"] = ratio(both["booked"].fillna(0), both["offered"])
    return both[KEY + ["value"]].assign(kpi="schedule_utilization")


def third_next_available(data, as_of) -> pd.DataFrame:
    """Per provider and Monday, a loop over the free slots as seen that day (the spec's words)."""
    slots = data["provider_slots"]
    appts = data["appointments"]
    staff = data["staff"]
    home = dict(zip(staff["provider_id"], staff["location_id"], strict=False))
    results = []
    for provider, own in slots.groupby("provider_id"):
        own = own.sort_values("slot_start")
        starts = own["slot_start"].to_numpy()
        ends = starts + (own["slot_minutes"].to_numpy() * 60e9).astype("timedelta64[ns]")
        visits = appts[appts["provider_id"] == provider]
        v_start = visits["scheduled_start"].to_numpy()
        v_end = v_start + (visits["scheduled_minutes"].to_numpy() * 60e9).astype("timedelta64[ns]")
        booked = visits["booked_at"].to_numpy()
        cancelled = visits["cancelled_at"].to_numpy()
        first = pd.Timestamp(starts.min()).normalize()
        monday = first - pd.Timedelta(days=first.weekday())
        while monday <= as_of:
            d = monday.to_datetime64()
            taken = (booked <= d) & ~(cancelled <= d)
            window = (starts > d) & (starts < d + np.timedelta64(180, "D"))
            free = []
            for i in np.flatnonzero(window):
                overlaps = taken & (v_start < ends[i]) & (v_end > starts[i])
                if not overlaps.any():
                    free.append(i)
                    if len(free) == 3:
                        break
            if len(free) == 3:
                days = (pd.Timestamp(starts[free[2]]).normalize() - monday).days
                results.append((provider, home.get(provider), monday, float(days)))
            monday += pd.Timedelta(days=7)
    frame = pd.DataFrame(results, columns=["provider_id", "location_id", "monday", "days"])
    frame = by_period(frame, "monday", "location_id", "provider_id", as_of)
    values = frame.groupby(KEY)["days"].mean().rename("value").reset_index()
    return values.assign(kpi="third_next_available_days")


def provider_fte(staff: pd.DataFrame, keys: pd.DataFrame, as_of) -> pd.Series:
    """FTE of active clinicians on each period's last day, per row of `keys`."""
    clinicians = staff[staff["role"].isin(CLINICIANS) & (staff["provider_id"] != "")]
    return active_fte(clinicians, keys, as_of)


def active_fte(staff: pd.DataFrame, keys: pd.DataFrame, as_of) -> pd.Series:
    values = []
    for grain, start, scope, scope_id in keys[KEY].itertuples(index=False):
        day = period_end(pd.Series([start]), grain, as_of).iloc[0]
        active = staff[(staff["hire_date"] <= day) & ~(staff["termination_date"] < day)]
        if scope == "location":
            active = active[active["location_id"] == scope_id]
        elif scope == "provider":
            active = active[active["provider_id"] == scope_id]
        values.append(active["fte"].sum())
    return pd.Series(values, index=keys.index, dtype=float)


def production_kpis(data, as_of) -> list[pd.DataFrame]:
    charges = data["charges"].copy()
    rvu = pd.read_csv(RVU_SEED, dtype=str, keep_default_na=False)
    rvu["work_rvu"] = pd.to_numeric(rvu["work_rvu"])
    rvu["modifier"] = rvu["modifier"].str.strip().str.upper()
    exact = rvu.drop_duplicates(["hcpcs", "modifier"]).set_index(["hcpcs", "modifier"])["work_rvu"]
    plain = rvu[rvu["modifier"] == ""].drop_duplicates("hcpcs").set_index("hcpcs")["work_rvu"]
    per_unit = pd.Series(
        [
            exact.get((code, modifier), np.nan)
            for code, modifier in zip(charges["cpt_code"], charges["modifier"], strict=True)
        ],
        index=charges.index,
    )
    per_unit = per_unit.fillna(charges["cpt_code"].map(plain)).fillna(0)
    charges["work_rvus"] = per_unit * charges["units"]
    charges["lag"] = (charges["posted_date"] - charges["service_date"]).dt.days
    payers = data["payers"].set_index("payer_id")["financial_class"]
    charges["class"] = charges["payer_id"].map(payers).fillna("unknown")
    rows = by_period(charges, "service_date", "location_id", "rendering_provider_id", as_of)
    sums = rows.groupby(KEY)[["work_rvus", "charge_amount"]].sum().reset_index()
    out = [long(sums, work_rvus="work_rvus", gross_charges="charge_amount")]
    out.append(
        rows.groupby(KEY)["lag"]
        .median()
        .rename("value")
        .reset_index()
        .assign(kpi="charge_lag_days")
    )
    mix = rows.groupby(KEY + ["class"])["charge_amount"].sum().reset_index()
    mix["value"] = mix["charge_amount"] / mix.groupby(KEY)["charge_amount"].transform("sum")
    mix["kpi"] = "payer_mix_" + mix["class"]
    out.append(mix[KEY + ["kpi", "value"]])
    sums["fte"] = provider_fte(data["staff"], sums, as_of)
    sums["value"] = ratio(sums["work_rvus"], sums["fte"])
    out.append(sums[KEY + ["value"]].assign(kpi="work_rvus_per_provider_fte"))

    appts = data["appointments"].copy()
    appts["day"] = appts["scheduled_start"].dt.normalize()
    visits = by_period(appts, "day", "location_id", "provider_id", as_of)
    visits["completed"] = visits["status"] == "completed"
    visits["new"] = visits["completed"] & (visits["appointment_type"] == "new_patient")
    counts = visits.groupby(KEY)[["completed", "new"]].sum().reset_index()
    counts["fte"] = provider_fte(data["staff"], counts, as_of)
    counts["per_fte"] = ratio(counts["completed"], counts["fte"])
    counts["share"] = ratio(counts["new"], counts["completed"])
    out.append(long(counts, visits_per_provider_fte="per_fte", new_patient_share="share"))
    return out


def claim_owner(charges: pd.DataFrame) -> pd.DataFrame:
    """A claim's location and provider: those of its first line (service date, charge id)."""
    first = charges.sort_values(["claim_id", "service_date", "charge_id"]).drop_duplicates(
        "claim_id"
    )
    return first[["claim_id", "location_id", "rendering_provider_id", "service_date"]]


def revenue_kpis(data, as_of) -> list[pd.DataFrame]:
    charges = data["charges"]
    trans = data["transactions"]
    owner = claim_owner(charges)
    trans = trans.merge(
        owner[["claim_id", "location_id", "rendering_provider_id"]], "left", "claim_id"
    )
    sign = {"payer_payment": 1, "patient_payment": 1, "refund": -1}
    trans["paid"] = trans["amount"] * trans["transaction_type"].map(sign).fillna(0)
    out = []
    rows = by_period(trans, "posted_date", "location_id", "rendering_provider_id", as_of)
    paid = rows.groupby(KEY)["paid"].sum().rename("value").reset_index()
    out.append(paid.assign(kpi="payments"))

    # initial denial rate: the first payer response day of each claim
    responses = trans[
        trans["transaction_type"].isin(["payer_payment", "contractual_adjustment", "denial"])
    ]
    first_day = responses.groupby("claim_id")["posted_date"].min().rename("first_day")
    first = responses.merge(first_day, left_on="claim_id", right_index=True)
    first = first[first["posted_date"] == first["first_day"]]
    denied = (
        first.groupby("claim_id")
        .agg(
            posted_date=("posted_date", "first"),
            denied=("transaction_type", lambda t: (t == "denial").any()),
            location_id=("location_id", "first"),
            rendering_provider_id=("rendering_provider_id", "first"),
        )
        .reset_index()
    )
    rows = by_period(denied, "posted_date", "location_id", "rendering_provider_id", as_of)
    rate = rows.groupby(KEY)["denied"].mean().rename("value").reset_index()
    out.append(rate.assign(kpi="initial_denial_rate"))
    out.extend(ar_kpis(charges, trans, owner, as_of))
    out.append(net_collection(charges, trans, owner, as_of))
    return out


def ar_kpis(charges, trans, owner, as_of) -> list[pd.DataFrame]:
    """A/R at each period's last day: claim balances summed up to that day."""
    moves = pd.concat(
        [
            charges[["claim_id", "posted_date", "charge_amount"]].rename(
                columns={"charge_amount": "amount"}
            ),
            trans.assign(
                amount=trans["amount"]
                * trans["transaction_type"].map(
                    {"payer_payment": -1, "patient_payment": -1, "contractual_adjustment": -1,
                     "write_off": -1, "refund": 1, "denial": 0}
                )
            )[["claim_id", "posted_date", "amount"]],
        ],
        ignore_index=True,
    )  # fmt: skip
    moves = moves[moves["posted_date"] <= as_of]
    moves = moves.merge(owner, "left", "claim_id")
    out = []
    for grain in GRAINS:
        first_day = moves["posted_date"].min()
        starts = pd.Series(pd.period_range(first_day, as_of, freq=GRAINS[grain]).start_time)
        ends = period_end(starts, grain, as_of)
        for start, end in zip(starts, ends, strict=False):
            upto = moves[moves["posted_date"] <= end]
            claims = upto.groupby("claim_id").agg(
                balance=("amount", "sum"),
                location_id=("location_id", "first"),
                provider=("rendering_provider_id", "first"),
                service=("service_date", "first"),
                first_post=("posted_date", "min"),
            )
            claims["age"] = (end - claims["service"]).dt.days.fillna(0)
            recent = charges[
                (charges["posted_date"] > end - pd.Timedelta(days=90))
                & (charges["posted_date"] <= end)
            ]
            recent = recent.assign(provider=recent["rendering_provider_id"])
            for scope, column in (
                ("practice", None),
                ("location", "location_id"),
                ("provider", "provider"),
            ):
                groups = (
                    [("all", claims, recent)]
                    if column is None
                    else [
                        (key, part, recent[recent[column] == key])
                        for key, part in claims.groupby(column)
                    ]
                )
                for scope_id, part, window in groups:
                    if part["first_post"].min() > end:
                        continue
                    debit = part[part["balance"] > 0]
                    balance = part["balance"].sum()
                    key = {
                        "period_grain": grain,
                        "period_start": start,
                        "scope": scope,
                        "scope_id": scope_id,
                    }
                    values = {
                        "ar_balance": balance,
                        "ar_credit_balance": -part.loc[part["balance"] < 0, "balance"].sum(),
                        "days_in_ar": balance / (window["charge_amount"].sum() / 90)
                        if window["charge_amount"].sum()
                        else np.nan,
                        "ar_over_90_share": debit.loc[debit["age"] > 90, "balance"].sum()
                        / debit["balance"].sum()
                        if debit["balance"].sum()
                        else np.nan,
                    }
                    for name, low, high in (
                        ("0_30", -1e9, 30),
                        ("31_60", 31, 60),
                        ("61_90", 61, 90),
                        ("91_120", 91, 120),
                        ("over_120", 121, 1e9),
                    ):
                        values[f"ar_aging_{name}"] = debit.loc[
                            debit["age"].between(low, high), "balance"
                        ].sum()
                    out.append(
                        pd.DataFrame([{**key, "kpi": k, "value": v} for k, v in values.items()])
                    )
    return out  # fmt: skip


def net_collection(charges, trans, owner, as_of) -> pd.DataFrame:
    """Service-month cohorts, month grain, for months ending ≥ 90 days before the as-of date."""
    line_month = charges.set_index("charge_id")["service_date"]
    claim_month = owner.set_index("claim_id")["service_date"]
    trans = trans[trans["posted_date"] <= as_of].copy()
    trans["service_date"] = (
        trans["charge_id"].map(line_month).fillna(trans["claim_id"].map(claim_month))
    )
    line_owner = charges.set_index("charge_id")[["location_id", "rendering_provider_id"]]
    sign = {"payer_payment": 1, "patient_payment": 1, "refund": -1}
    trans["paid"] = trans["amount"] * trans["transaction_type"].map(sign).fillna(0)
    trans["contractual"] = trans["amount"].where(
        trans["transaction_type"] == "contractual_adjustment", 0
    )
    with_line = trans["charge_id"].isin(line_owner.index)
    trans.loc[with_line, "location_id"] = trans.loc[with_line, "charge_id"].map(
        line_owner["location_id"]
    )
    trans.loc[with_line, "rendering_provider_id"] = trans.loc[with_line, "charge_id"].map(
        line_owner["rendering_provider_id"]
    )
    both = pd.concat(
        [
            charges[["service_date", "location_id", "rendering_provider_id", "charge_amount"]],
            trans[["service_date", "location_id", "rendering_provider_id", "paid", "contractual"]],
        ],
        ignore_index=True,
    ).fillna({"charge_amount": 0, "paid": 0, "contractual": 0})
    both = both[both["service_date"].notna()]
    rows = by_period(
        both, "service_date", "location_id", "rendering_provider_id", as_of, ("month",)
    )
    sums = rows.groupby(KEY)[["paid", "charge_amount", "contractual"]].sum().reset_index()
    sums = sums[sums["period_start"] + pd.offsets.MonthEnd(0) <= as_of - pd.Timedelta(days=90)]
    sums["value"] = ratio(sums["paid"], sums["charge_amount"] - sums["contractual"])
    return sums[KEY + ["value"]].assign(kpi="net_collection_rate")


def spread_days(frame: pd.DataFrame, start: str, end: str, columns: list[str]) -> pd.DataFrame:
    """Each row as one row per day of its span, its amounts divided evenly."""
    days = (frame[end] - frame[start]).dt.days + 1
    spread = frame.loc[frame.index.repeat(days)].copy()
    spread["day"] = spread[start] + pd.to_timedelta(spread.groupby(level=0).cumcount(), unit="D")
    for column in columns:
        spread[column] = spread[column] / days.loc[spread.index]
    return spread.reset_index(drop=True)


def cost_kpis(data, as_of, visits: pd.DataFrame, payments: pd.DataFrame) -> list[pd.DataFrame]:
    staff = data["staff"]
    sheets = data["timesheets"].merge(staff[["employee_id", "location_id"]], "left", "employee_id")
    sheets["labor"] = sheets["gross_pay"] + sheets["benefits_cost"].fillna(0)
    days = spread_days(
        sheets, "pay_period_start", "pay_period_end", ["labor", "regular_hours", "overtime_hours"]
    )
    rows = by_period(days, "day", "location_id", None, as_of)
    labour = rows.groupby(KEY)[["labor", "regular_hours", "overtime_hours"]].sum()
    labour["overtime_share"] = ratio(
        labour["overtime_hours"], labour["regular_hours"] + labour["overtime_hours"]
    )
    gl = data["gl_expenses"].copy()
    gl["start"] = pd.to_datetime(gl["month"] + "-01")
    gl["end"] = gl["start"] + pd.offsets.MonthEnd(0)
    gl_days = by_period(
        spread_days(gl, "start", "end", ["amount"]), "day", "location_id", None, as_of
    )
    non_labour = gl_days.groupby(KEY)["amount"].sum().rename("non_labor")
    cost = pd.concat([labour, non_labour, visits, payments], axis=1)
    cost = cost[cost["labor"].notna() | cost["non_labor"].notna()].reset_index()
    cost = cost[cost["scope"] != "provider"]
    cost["operating"] = cost["labor"].fillna(0) + cost["non_labor"].fillna(0)
    cost["cost_per_visit"] = ratio(cost["operating"], cost["visits"])
    cost["labor_per_visit"] = ratio(cost["labor"], cost["visits"])
    cost["margin"] = cost["payments"].fillna(0) - cost["operating"]
    cost["margin_pct"] = ratio(cost["margin"], cost["payments"])
    out = [
        long(cost[cost["labor"].notna()], labor_cost="labor", overtime_share="overtime_share"),
        long(cost[cost["labor"].notna()], labor_cost_per_visit="labor_per_visit"),
        long(cost[cost["non_labor"].notna()], non_labor_cost="non_labor"),
        long(
            cost,
            operating_cost="operating",
            cost_per_visit="cost_per_visit",
            operating_margin="margin",
            operating_margin_pct="margin_pct",
        ),
    ]
    out.extend(staff_kpis(data, as_of))
    out.append(budget_variance(data, as_of, visits, payments, labour, gl))
    return out


def staff_kpis(data, as_of) -> list[pd.DataFrame]:
    staff = data["staff"]
    start = min(
        data["appointments"]["scheduled_start"].min(), data["charges"]["service_date"].min()
    )
    rows = []
    for grain in GRAINS:
        for period in pd.period_range(start, as_of, freq=GRAINS[grain]):
            first, last = period.start_time.normalize(), min(period.end_time.normalize(), as_of)
            scopes = [("practice", "all", staff)] + [
                ("location", key, part) for key, part in staff.groupby("location_id")
            ]
            for scope, scope_id, part in scopes:
                active = part[(part["hire_date"] <= last) & ~(part["termination_date"] < last)]
                if active.empty:
                    continue
                clinical = active[active["role"].isin(CLINICIANS) & (active["provider_id"] != "")]
                support = active[~active["role"].isin(CLINICIANS)]
                at_first = part[(part["hire_date"] <= first) & ~(part["termination_date"] < first)]
                leavers = part["termination_date"].between(first, last).sum()
                headcount = (len(at_first) + len(active)) / 2
                days = (last - first).days + 1
                key = (grain, period.start_time, scope, scope_id)
                fte = clinical["fte"].sum()
                rows.append(
                    (
                        *key,
                        "support_staff_per_provider_fte",
                        support["fte"].sum() / fte if fte else np.nan,
                    )
                )
                rows.append(
                    (
                        *key,
                        "staff_turnover_rate",
                        leavers / (headcount * days / 365) if headcount else np.nan,
                    )
                )
    return [pd.DataFrame(rows, columns=KEY + ["kpi", "value"])]  # fmt: skip


def budget_variance(data, as_of, visits, payments, labour, gl) -> pd.DataFrame:
    """Month grain only here (no week grain in the spec), complete months only."""
    budget = data["budget"].copy()
    budget["period_start"] = pd.to_datetime(budget["month"] + "-01")
    last_complete = (
        as_of if (as_of + pd.Timedelta(days=1)).day == 1 else as_of - pd.offsets.MonthEnd(1)
    )
    budget = budget[budget["period_start"] + pd.offsets.MonthEnd(0) <= last_complete]
    actual_of = {
        "completed_visits": visits,
        "gross_charges": None,
        "collections": payments,
        "labor_cost": labour["labor"],
    }
    rows = []
    parts = [budget.assign(scope="location", scope_id=budget["location_id"]),
             budget.assign(scope="practice", scope_id="all")]  # fmt: skip
    planned = (
        pd.concat(parts).groupby(["period_start", "scope", "scope_id", "line"])["amount"].sum()
    )
    for (start, scope, scope_id, line), amount in planned.items():
        key = ("month", start, scope, scope_id)
        if line in actual_of and actual_of[line] is not None:
            actual = actual_of[line].get(key, 0.0)
        elif line == "gross_charges":
            actual = data["_gross"].get(key, 0.0)
        else:
            frame = gl[(gl["start"] == start) & (gl["account"] == line)]
            if scope == "location":
                frame = frame[frame["location_id"] == scope_id]
            actual = frame["amount"].sum()
        rows.append((*key, f"budget_variance_{line}", float(np.nan_to_num(actual)) - amount))
    return pd.DataFrame(rows, columns=KEY + ["kpi", "value"])


def default_as_of(data) -> pd.Timestamp:
    posted = pd.concat([data["charges"]["posted_date"], data["transactions"]["posted_date"]])
    if posted.notna().any():
        return posted.max()
    appts = data["appointments"]
    seen = appts[appts["status"].isin(["completed", "no_show"])]
    return seen["scheduled_start"].max().normalize()


def compute(inboxes: list[Path], as_of: date | None = None) -> pd.DataFrame:
    data = load(inboxes)
    cut = pd.Timestamp(as_of) if as_of else default_as_of(data)
    parts = access_kpis(data, cut) + production_kpis(data, cut) + revenue_kpis(data, cut)
    so_far = pd.concat(parts, ignore_index=True)

    def series(kpi):
        return so_far[so_far["kpi"] == kpi].set_index(KEY)["value"].rename(kpi)

    data["_gross"] = series("gross_charges")
    visits = series("completed_visits").rename("visits")
    payments = series("payments").rename("payments")
    parts += cost_kpis(data, cut, visits, payments)
    out = pd.concat(parts, ignore_index=True)[KEY + ["kpi", "value"]]
    out["period_start"] = pd.to_datetime(out["period_start"]).dt.date
    return out.sort_values(KEY + ["kpi"]).reset_index(drop=True)


if __name__ == "__main__":
    table = compute([Path(p) for p in sys.argv[2:]])
    table.to_parquet(sys.argv[1], index=False)
    print(f"pandas peer: {len(table):,} KPI rows, {table['kpi'].nunique()} KPIs")
