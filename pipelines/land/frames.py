"""What a standard-format reader hands to landing: text frames per contract entity."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import polars as pl

from pipelines.core.contracts import contract_for


@dataclass
class Parsed:
    """One standard-format file read into contract-shaped text frames.

    `frames` maps an entity to a frame of its contract columns (all strings, as
    received), `_line`, `_extra` (JSON of what the format says beyond the contract) and
    `_problem` (a structural reason that rejects the row). `remittance` holds the money
    an 835 reports that is no A/R movement of a claim (patient responsibility, provider
    level adjustments).
    """

    frames: dict[str, pl.DataFrame] = field(default_factory=dict)
    remittance: pl.DataFrame | None = None


def text_frame(entity: str, rows: list[dict]) -> pl.DataFrame:
    """Rows of contract values (None for absent) as a text frame landing can judge.

    Each row carries `_line`, and may carry `_extra` (a dict) and `_problem`.
    """
    names = contract_for(entity).names
    schema = {"_line": pl.Int64, **{n: pl.String for n in names}}
    schema |= {"_extra": pl.String, "_problem": pl.String}
    data = [
        {
            **{n: _text(row.get(n)) for n in names},
            "_line": row["_line"],
            "_extra": json.dumps(row["_extra"], sort_keys=True) if row.get("_extra") else None,
            "_problem": row.get("_problem"),
        }
        for row in rows
    ]
    return pl.DataFrame(data, schema=schema, orient="row")


def _text(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None
