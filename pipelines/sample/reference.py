"""The practice's fixed cast: its three sites, the payers its patients carry, and how the
practice names its clinicians (providers.csv)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl


@dataclass(frozen=True)
class Location:
    location_id: str
    location_name: str
    timezone: str
    share: float  # of the practice's clinicians
    # Chicago sites share providers for a day a week; nobody commutes to Denver.
    region: str


LOCATIONS: tuple[Location, ...] = (
    Location("L01", "Lakeview Family Medicine", "America/Chicago", 0.42, "chicago"),
    Location("L02", "Oak Brook Primary Care", "America/Chicago", 0.33, "chicago"),
    Location("L03", "Front Range Internal Medicine", "America/Denver", 0.25, "denver"),
)


@dataclass(frozen=True)
class Payer:
    payer_id: str
    payer_name: str
    financial_class: str
    share: float  # of patients
    allowed_ratio: float  # allowed amount / billed charge
    line_level: bool  # remits per service line (835 with line detail) or per claim


PAYERS: tuple[Payer, ...] = (
    Payer("PY001", "Prairie Blue PPO", "commercial", 0.20, 0.72, True),
    Payer("PY002", "Heartland Health Plan HMO", "commercial", 0.14, 0.66, True),
    Payer("PY003", "Summit National Insurance", "commercial", 0.10, 0.76, True),
    Payer("PY004", "Medicare Part B", "medicare", 0.19, 0.46, True),
    Payer("PY005", "Medicare Advantage Gold", "medicare", 0.09, 0.5, True),
    Payer("PY006", "State Medicaid Fee-for-Service", "medicaid", 0.08, 0.36, False),
    Payer("PY007", "Community Medicaid Managed Care", "medicaid", 0.07, 0.4, True),
    Payer("PY008", "Self-Pay", "self_pay", 0.05, 1.0, False),
    Payer("PY009", "Workers Compensation Fund", "other", 0.04, 0.8, False),
    Payer("PY010", "Veterans Community Care", "other", 0.04, 0.6, False),
)


def locations_frame() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "location_id": [loc.location_id for loc in LOCATIONS],
            "location_name": [loc.location_name for loc in LOCATIONS],
            "timezone": [loc.timezone for loc in LOCATIONS],
        }
    )


def payers_frame() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "payer_id": [p.payer_id for p in PAYERS],
            "payer_name": [p.payer_name for p in PAYERS],
            "financial_class": [p.financial_class for p in PAYERS],
        }
    )


# Invented surnames for providers.csv (none of staff.py's LAST_NAMES, so a display name never
# looks like a staff name), taken in provider order; no draw from the
# generator's random stream, so adding the file changes no other sample row.
_SURNAMES = (
    "Rivera", "Achterberg", "Lindqvist", "Moreau", "Tanaka", "Castillo", "Haddad", "Varga",
    "Brennan", "Achebe", "Halvorsen", "Duarte", "Petrov", "Sato", "Whitfield", "Ibarra",
)  # fmt: skip
_INITIALS = "ABCDEFGHJKLMNPRSTW"
_TITLES = {"physician": "Dr. {i}. {s}", "nurse_practitioner": "{i}. {s}, NP",
           "physician_assistant": "{i}. {s}, PA-C"}  # fmt: skip
# What each site practises, as providers.csv names a specialty.
_SPECIALTY = {"L01": "family_medicine", "L02": "family_medicine", "L03": "internal_medicine"}
# Invented NPIs start here (the first nine digits), one per provider, each with its check digit.
_NPI_BASE = 199_000_000


def npi_check_digit(first_nine: str) -> int:
    """The Luhn check digit of "80840" + the NPI's first nine digits (CMS's NPI rule)."""
    total = 24  # the prefix 80840's share of the Luhn sum
    for position, char in enumerate(first_nine):
        digit = int(char) * (2 if position % 2 == 0 else 1)
        total += digit - 9 if digit > 9 else digit
    return (10 - total % 10) % 10


def providers_frame(clinicians: pl.DataFrame) -> pl.DataFrame:
    """providers.csv: a display name ("Dr. A. Rivera"), a valid invented NPI, the home
    site's specialty and home location for each clinician."""
    rows = []
    for provider_id, role, home in clinicians.select("provider_id", "role", "home").iter_rows():
        number = int(provider_id.removeprefix("PRV"))
        first_nine = str(_NPI_BASE + number)
        location_id = LOCATIONS[home].location_id
        rows.append(
            (
                provider_id,
                _TITLES[role].format(
                    i=_INITIALS[(number * 7) % len(_INITIALS)],
                    s=_SURNAMES[(number - 1) % len(_SURNAMES)],
                ),
                first_nine + str(npi_check_digit(first_nine)),
                _SPECIALTY[location_id],
                location_id,
            )
        )
    return pl.DataFrame(
        rows,
        schema=["provider_id", "display_name", "npi", "specialty", "location_id"],
        orient="row",
    ).sort("provider_id")


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64: a fixed pseudo-random function of an integer."""
    z = x.astype(np.uint64) + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def payer_of_patient(patient_number: np.ndarray, seed: int) -> np.ndarray:
    """Index into PAYERS of each patient's coverage.

    A function of the patient rather than a draw per visit, so that a patient keeps one
    payer across visits without a lookup table the size of the practice's panel.
    """
    salted = patient_number.astype(np.uint64) ^ _mix(np.array([seed], dtype=np.uint64))
    unit = (_mix(salted) >> np.uint64(11)).astype(np.float64) / float(1 << 53)
    shares = np.cumsum([p.share for p in PAYERS])
    return np.minimum(np.searchsorted(shares / shares[-1], unit, side="right"), len(PAYERS) - 1)
