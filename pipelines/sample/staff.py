"""The workforce: clinicians with their weekly templates, support staff, turnover, payroll.

Positions are stable and people move through them: when someone leaves, the position
stays open for a while and a successor is hired. That gives staff.csv real turnover
while the size of the practice stays what was asked for.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import polars as pl

from pipelines.core.contracts import contract_for
from pipelines.sample.calendar import Span, in_flu_season, pay_periods
from pipelines.sample.ids import prefixed
from pipelines.sample.reference import LOCATIONS

FIRST_NAMES = (
    "Aaron", "Abigail", "Adrian", "Alicia", "Amir", "Ana", "Brandon", "Brianna", "Caleb",
    "Carmen", "Chloe", "Daniel", "Deepa", "Diego", "Elena", "Emily", "Ethan", "Fatima",
    "Gabriel", "Grace", "Hannah", "Isaac", "Jasmine", "Jordan", "Julia", "Kevin", "Laila",
    "Lucas", "Maria", "Mason", "Naomi", "Noah", "Olivia", "Omar", "Priya", "Rachel", "Samuel",
    "Sofia", "Tyler", "Victoria", "Wei", "Yusuf", "Zoe",
)  # fmt: skip
LAST_NAMES = (
    "Adams", "Alvarez", "Bennett", "Brooks", "Chen", "Collins", "Diaz", "Edwards", "Evans",
    "Fischer", "Garcia", "Gupta", "Hall", "Hughes", "Ito", "Jensen", "Kim", "Kowalski",
    "Lopez", "Martin", "Mendoza", "Nguyen", "Novak", "Okafor", "Olsen", "Patel", "Peterson",
    "Quinn", "Ramirez", "Reyes", "Schmidt", "Shah", "Sullivan", "Taylor", "Thompson",
    "Turner", "Walsh", "Williams", "Yamamoto", "Zielinski",
)  # fmt: skip


@dataclass(frozen=True)
class Role:
    name: str
    hourly_rate: float  # 2025 dollars; clinicians are salaried, this is their equivalent
    annual_turnover: float
    overtime: bool  # non-exempt roles that log overtime


ROLES: dict[str, Role] = {
    r.name: r
    for r in (
        Role("physician", 112.0, 0.07, False),
        Role("nurse_practitioner", 61.0, 0.12, False),
        Role("physician_assistant", 62.0, 0.12, False),
        Role("registered_nurse", 42.0, 0.15, True),
        Role("medical_assistant", 21.0, 0.30, True),
        Role("front_desk", 19.0, 0.35, True),
        Role("billing", 25.0, 0.15, True),
        Role("manager", 44.0, 0.10, False),
        Role("other", 22.0, 0.20, True),
    )
}
CLINICIAN_MIX = {"physician": 0.55, "nurse_practitioner": 0.25, "physician_assistant": 0.20}
# Base slot length by clinician role: the template mixes it with 30- and 40-minute slots.
BASE_SLOTS = {
    "physician": ((15, 20), (0.6, 0.4)),
    "nurse_practitioner": ((15, 20, 30), (0.3, 0.55, 0.15)),
    "physician_assistant": ((15, 20), (0.5, 0.5)),
}
CLINICIAN_FTES = ((1.0, 0.9, 0.8, 0.6, 0.5), (0.55, 0.1, 0.15, 0.12, 0.08))
# Each clinician position keeps its own block of patient numbers (the panel), which a
# successor inherits; new patients are numbered after all panels.
PANEL_STRIDE = 2500
ABSENT_EMPLOYEE_ID = "E99999"


@dataclass(frozen=True)
class Workforce:
    staff: pl.DataFrame  # contract columns plus hourly_rate, overtime
    clinicians: pl.DataFrame  # provider_id, hire/termination, panel_base, panel_size
    templates: pl.DataFrame  # provider_id, weekday, location_id, start_min, slot_minutes
    vacations: pl.DataFrame  # provider_id, week_start: weeks a clinician is away


def _tenures(rng: np.random.Generator, span: Span, hazard: float, opens_later: bool):
    """Hire and termination dates of the successive holders of one position."""
    history_days = (span.end - span.start).days
    if opens_later:
        hire = span.start + timedelta(days=int(rng.uniform(0, 0.6 * history_days)))
    else:
        hire = span.start - timedelta(days=int(rng.uniform(60, 12 * 365)))
    out: list[tuple[date, date | None]] = []
    while True:
        tenure = timedelta(days=int(rng.exponential(365 / hazard)))
        leaves = max(hire, span.start) + tenure
        if leaves > span.horizon:
            out.append((hire, None))
            return out
        out.append((hire, leaves))
        hire = leaves + timedelta(days=int(rng.uniform(45, 150)))
        if leaves > span.end or hire > span.end:
            return out


def _template(rng: np.random.Generator, role: str, fte: float, home: int) -> list[tuple]:
    """One clinician's week: sessions with a lunch gap, slots of mixed length."""
    work_days = max(2, round(fte * 5))
    # Mondays are the busiest day, so part-timers drop later days first.
    dropped = set(rng.permutation([4, 2, 3, 1])[: 5 - work_days].tolist())
    days = [d for d in range(5) if d not in dropped]
    lengths, probs = BASE_SLOTS[role]
    base = int(rng.choice(lengths, p=probs))
    am_start = int(rng.choice([450, 480, 510]))
    am_end = int(rng.choice([720, 750]))
    pm_end = int(rng.choice([990, 1020]))
    admin_afternoon = int(rng.choice(days[1:])) if fte >= 1.0 and rng.random() < 0.5 else -1
    locations = [home] * 5
    partners = [
        i for i, loc in enumerate(LOCATIONS) if loc.region == LOCATIONS[home].region and i != home
    ]
    if partners and len(days) > 1 and rng.random() < 0.35:
        locations[int(rng.choice(days[1:]))] = int(rng.choice(partners))
    pattern = [40, base, base, base, 30]
    rows = []
    for day in days:
        sessions = [(am_start, am_end)]
        if day != admin_afternoon:
            sessions.append((am_end + 60, pm_end))
        for first, last in sessions:
            t, i = first, 0
            while True:
                length = pattern[i] if i < len(pattern) else base
                if t + length > last:
                    break
                rows.append((day, LOCATIONS[locations[day]].location_id, t, length))
                t += length
                i += 1
    return rows


def _names(rng: np.random.Generator, n: int) -> list[str]:
    first = rng.choice(FIRST_NAMES, size=n)
    last = rng.choice(LAST_NAMES, size=n)
    return [f"{a} {b}" for a, b in zip(first, last, strict=True)]


def build_workforce(rng: np.random.Generator, span: Span, providers: int) -> Workforce:
    if providers < 1:
        raise ValueError("providers must be at least 1")
    n_loc = len(LOCATIONS)
    shares = np.array([loc.share for loc in LOCATIONS])
    homes = np.concatenate(
        [
            np.arange(min(providers, n_loc)),
            rng.choice(n_loc, size=max(0, providers - n_loc), p=shares / shares.sum()),
        ]
    )
    roles = list(CLINICIAN_MIX)[: min(providers, 3)] + list(
        rng.choice(list(CLINICIAN_MIX), size=max(0, providers - 3), p=list(CLINICIAN_MIX.values()))
    )

    # Rows of (position, role, home, hire, termination, opened later) for everyone.
    holders: list[tuple[int, str, int, date, date | None]] = []
    for pos in range(providers):
        opens_later = pos >= 3 and rng.random() < 0.1
        for hire, leaves in _tenures(rng, span, ROLES[roles[pos]].annual_turnover, opens_later):
            holders.append((pos, str(roles[pos]), int(homes[pos]), hire, leaves))
    n_clinician_holders = len(holders)
    support_counts = []
    for loc in range(n_loc):
        n_here = int((homes == loc).sum())
        support_counts += [
            ("medical_assistant", loc, max(1, round(n_here))),
            ("registered_nurse", loc, max(1, round(0.3 * n_here))),
            ("front_desk", loc, max(1, round(0.5 * n_here))),
            ("manager", loc, 1),
            ("other", loc, 1),
        ]
    support_counts.append(("billing", 0, max(1, round(providers / 5))))
    pos = providers
    for role, loc, count in support_counts:
        for _ in range(count):
            for hire, leaves in _tenures(rng, span, ROLES[role].annual_turnover, False):
                holders.append((pos, role, loc, hire, leaves))
            pos += 1

    n = len(holders)
    is_clinician = np.arange(n) < n_clinician_holders
    ftes = np.where(
        is_clinician,
        rng.choice(CLINICIAN_FTES[0], size=n, p=CLINICIAN_FTES[1]),
        rng.choice([1.0, 0.75, 0.5], size=n, p=[0.8, 0.12, 0.08]),
    )
    ftes = np.where([h[1] == "manager" for h in holders], 1.0, ftes)
    frame = pl.DataFrame(
        {
            "position": [h[0] for h in holders],
            "role": [h[1] for h in holders],
            "home": [h[2] for h in holders],
            "hire_date": [h[3] for h in holders],
            "termination_date": [h[4] for h in holders],
            "fte": ftes,
            "is_clinician": is_clinician,
            "full_name": _names(rng, n),
            "rate_factor": rng.uniform(0.9, 1.15, size=n),
        },
        schema_overrides={"termination_date": pl.Date},
    ).with_row_index("holder")
    # Ids follow hiring order, as an HR system numbers its employees.
    frame = frame.sort("hire_date", "position").with_row_index("employee_number", offset=1)
    frame = frame.with_columns(
        employee_id=prefixed(pl.col("employee_number"), "E", 5),
        provider_number=pl.when("is_clinician").then(pl.col("is_clinician").cum_sum()),
        location_id=pl.col("home").replace_strict(
            list(range(n_loc)), [loc.location_id for loc in LOCATIONS]
        ),
        hourly_rate=pl.col("role").replace_strict(
            list(ROLES), [r.hourly_rate for r in ROLES.values()]
        )
        * pl.col("rate_factor"),
        overtime=pl.col("role").replace_strict(list(ROLES), [r.overtime for r in ROLES.values()]),
    ).with_columns(provider_id=prefixed(pl.col("provider_number"), "PRV", 4))

    clinicians = (
        frame.filter("is_clinician")
        .select(
            "holder",
            "provider_id",
            "role",
            "home",
            "fte",
            "hire_date",
            "termination_date",
            panel_base=pl.col("position") * PANEL_STRIDE + 1,
            panel_size=(pl.col("fte") * (PANEL_STRIDE - 300)).cast(pl.Int64),
        )
        .sort("holder")
    )
    template_rows = []
    for provider_id, role, home, fte in clinicians.select(
        "provider_id", "role", "home", "fte"
    ).iter_rows():
        template_rows += [(provider_id, *row) for row in _template(rng, role, fte, home)]
    templates = pl.DataFrame(
        template_rows,
        schema=["provider_id", "weekday", "location_id", "start_min", "slot_minutes"],
        orient="row",
    )
    return Workforce(
        staff=frame.sort("employee_number"),
        clinicians=clinicians.drop("holder"),
        templates=templates,
        vacations=_vacations(rng, span, clinicians["provider_id"]),
    )


def _vacations(rng: np.random.Generator, span: Span, provider_ids: pl.Series) -> pl.DataFrame:
    """Weeks off: more in summer and over the holidays, planned into the future too."""
    first_monday = span.start - timedelta(days=span.start.weekday())
    weeks = np.arange(
        np.datetime64(first_monday), np.datetime64(span.horizon) + 1, 7, dtype="datetime64[D]"
    )
    month = weeks.astype("datetime64[M]").astype(np.int64) % 12
    p_away = np.select([np.isin(month, [6, 7]), month == 11], [0.12, 0.10], 0.055)
    away = rng.random((len(provider_ids), len(weeks))) < p_away
    who, when = np.nonzero(away)
    return pl.DataFrame(
        {"provider_id": provider_ids.to_numpy()[who], "week_start": weeks[when]}
    ).with_columns(pl.col("week_start").cast(pl.Date))


def staff_rows(workforce: Workforce) -> pl.DataFrame:
    return workforce.staff.select(contract_for("staff").names)


def timesheets(rng: np.random.Generator, workforce: Workforce, span: Span) -> pl.DataFrame:
    """Biweekly payroll for everyone employed in each closed pay period."""
    periods = pl.DataFrame(
        pay_periods(span.start, span.end),
        schema=["pay_period_start", "pay_period_end"],
        orient="row",
    )
    staff = workforce.staff.select(
        "employee_id", "provider_id", "role", "fte", "hire_date", "termination_date",
        "hourly_rate", "overtime",
    )  # fmt: skip
    rows = staff.join(periods, how="cross").with_columns(
        worked_from=pl.max_horizontal("hire_date", "pay_period_start"),
        worked_to=pl.min_horizontal(
            pl.col("termination_date").fill_null(pl.col("pay_period_end")), "pay_period_end"
        ),
    )
    rows = rows.filter(pl.col("worked_from") <= pl.col("worked_to")).with_columns(
        share=((pl.col("worked_to") - pl.col("worked_from")).dt.total_days() + 1) / 14
    )
    away = (
        workforce.vacations.join(periods, how="cross")
        .filter(pl.col("week_start").is_between("pay_period_start", "pay_period_end"))
        .group_by("provider_id", "pay_period_start")
        .agg(weeks_away=pl.len())
    )
    rows = rows.join(away, on=["provider_id", "pay_period_start"], how="left").sort(
        "pay_period_start", "employee_id"
    )
    n = rows.height
    fte = rows["fte"].to_numpy()
    share = rows["share"].to_numpy()
    scheduled = 80.0 * fte * share
    random_pto = rng.choice([0, 4, 8, 16, 24, 40], size=n, p=[0.72, 0.06, 0.1, 0.06, 0.03, 0.03])
    pto = np.where(
        rows["provider_id"].is_null().to_numpy(),
        random_pto * fte,
        rows["weeks_away"].fill_null(0).to_numpy() * 40.0 * fte,
    )
    pto = np.minimum(pto, scheduled)
    period_days = rows["pay_period_start"].to_numpy().astype("datetime64[D]")
    p_overtime = np.where(in_flu_season(period_days), 0.45, 0.25)
    overtime = np.where(
        rows["overtime"].to_numpy() & (rng.random(n) < p_overtime) & (share == 1.0),
        np.round(rng.gamma(2.0, 2.5, size=n) * 4) / 4,
        0.0,
    )
    regular = np.round((scheduled - pto) * 4) / 4
    years = (period_days.astype("datetime64[Y]").astype(np.int64) + 1970 - 2025).clip(-3, 5)
    rate = rows["hourly_rate"].to_numpy() * 1.03**years
    gross = np.round(rate * (regular + pto) + 1.5 * rate * overtime, 2)
    benefits = np.round(gross * np.where(fte >= 0.5, rng.uniform(0.22, 0.3, n), 0.0765), 2)
    benefits_known = rng.random(n) >= 0.015
    sheets = rows.select("employee_id", "pay_period_start", "pay_period_end").with_columns(
        regular_hours=pl.Series(regular),
        overtime_hours=pl.Series(overtime),
        pto_hours=pl.Series(pto),
        gross_pay=pl.Series(gross),
        benefits_cost=pl.Series(np.where(benefits_known, benefits, np.nan)).fill_nan(None),
    )
    # Payroll that HR never told about: counts at practice scope only (CONTRACTS.md).
    last = sheets.tail(1).with_columns(employee_id=pl.lit(ABSENT_EMPLOYEE_ID))
    return pl.concat([sheets, last])
