"""The practice's fixed cast: its three sites and the payers its patients carry."""

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
