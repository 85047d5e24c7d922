"""The landed lake as CONTRACTS.md defines it, read straight from Parquet with Polars.

The oracle reads `<home>/lake/raw` itself rather than dbt's staging, so that a mistake in
staging (wrong newest version, a timestamp left in the wrong timezone) shows up as a
disagreement instead of being shared by both sides.
"""

from __future__ import annotations

import zoneinfo
from functools import cache
from pathlib import Path

import polars as pl

from pipelines.core.contracts import BY_ENTITY, Kind

# The CMS file KPI_SPEC.md names, not dbt's converted seed: a conversion slip would
# otherwise be shared by both sides. CI keeps shared/ beside the repository; a git
# worktree one folder deeper finds it one level further up.
_CMS_RELATIVE = Path("shared") / "data" / "cms_pfs_rvu_2025.csv"
CMS_RVU_FILE = next(
    (
        folder / _CMS_RELATIVE
        for folder in Path(__file__).resolve().parents[3:5]
        if (folder / _CMS_RELATIVE).exists()
    ),
    Path(__file__).resolve().parents[3] / _CMS_RELATIVE,
)


def newest(raw: Path, entity: str) -> pl.DataFrame:
    """Newest version per key: later delivery wins, then later line; keys absent from the
    newest full snapshot are deleted (CONTRACTS.md "A file may be delivered again")."""
    files = sorted(raw.glob(f"{entity}/*/*.parquet"))
    versions = pl.concat([pl.read_parquet(f) for f in files], how="diagonal_relaxed")
    key = list(BY_ENTITY[entity].key)
    frame = versions.sort(["_delivery_id", "_line"]).unique(subset=key, keep="last")
    snapshots = versions.filter(pl.col("_snapshot").fill_null(False))["_delivery_id"]
    if len(snapshots):
        frame = frame.filter(pl.col("_delivery_id") >= snapshots.max())
    return frame


@cache
def _zone_names() -> dict[str, str]:
    return {name.lower(): name for name in zoneinfo.available_timezones()}


def localise(frame: pl.DataFrame, entity: str, zones: dict[str, str | None]) -> pl.DataFrame:
    """Every timestamp in its location's local wall-clock time: a value written with an
    offset is converted to the location's timezone, or kept as written without one."""
    columns = [c.name for c in BY_ENTITY[entity].columns if c.kind is Kind.TIMESTAMP]
    frame = frame.with_columns(
        pl.col("location_id")
        .replace_strict(zones, default=None, return_dtype=pl.String)
        .alias("_tz")
    )
    parts = []
    for (tz,), part in frame.group_by("_tz"):
        exprs = []
        for name in columns:
            offset = pl.col(f"{name}_offset_min")
            if tz is None:
                exprs.append(pl.col(name))
                continue
            converted = (
                (pl.col(name) - pl.duration(minutes=offset))
                .dt.replace_time_zone("UTC")
                .dt.convert_time_zone(_zone_names()[tz.lower()])
                .dt.replace_time_zone(None)
            )
            exprs.append(
                pl.when(offset.is_null()).then(pl.col(name)).otherwise(converted).alias(name)
            )
        parts.append(part.with_columns(exprs))
    return pl.concat(parts).drop("_tz")


class Lake:
    """Newest rows of every entity of one home, timestamps localised."""

    def __init__(self, home_root: Path):
        raw = Path(home_root) / "lake" / "raw"
        get = lambda entity: newest(raw, entity)  # noqa: E731
        self.locations = get("locations")
        zones = dict(zip(self.locations["location_id"], self.locations["timezone"], strict=True))
        self.appointments = localise(get("appointments"), "appointments", zones)
        self.slots = localise(get("provider_slots"), "provider_slots", zones)
        self.payers = get("payers")
        self.charges = get("charges")
        self.claims = get("claims")
        self.transactions = get("transactions")
        self.staff = get("staff")
        self.timesheets = get("timesheets")
        self.gl = get("gl_expenses")
        self.budget = get("budget")
        self.rvus = pl.read_csv(CMS_RVU_FILE, infer_schema=False).select(
            pl.col("hcpcs").str.strip_chars().str.to_uppercase().alias("cpt_code"),
            pl.col("modifier").str.strip_chars().str.to_uppercase().fill_null("").alias("modifier"),
            pl.col("work_rvu").cast(pl.Float64),
        )
