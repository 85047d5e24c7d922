"""Running numbers for the ids a practice's systems hand out, kept across chunks."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl


def prefixed(expr: pl.Expr, prefix: str, width: int) -> pl.Expr:
    """A numbered id as source systems print it: fixed width, leading zeros kept."""
    return pl.lit(prefix) + expr.cast(pl.String).str.zfill(width)


@dataclass
class Counters:
    """The next number of each id; chunks draw consecutive blocks in a fixed order."""

    patient: int
    appointment: int = 1
    encounter: int = 1
    charge: int = 1
    claim: int = 1
    transaction: int = 1

    def take(self, name: str, count: int) -> np.ndarray:
        first = getattr(self, name)
        setattr(self, name, first + count)
        return np.arange(first, first + count, dtype=np.int64)
