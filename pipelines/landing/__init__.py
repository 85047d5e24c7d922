"""The landing library: inbox files in, typed and pseudonymised Parquet deliveries out.

Plain functions with no Dagster in them; the CLI and the Dagster assets both call these.
Names are loaded on first use, so that the mapping modules (pipelines/land/) can import
`pipelines.landing.files` without importing landing itself, which imports them.
"""

from __future__ import annotations

__all__ = ["FileResult", "LandingReport", "land_entity", "land_inbox"]


def __getattr__(name: str):
    if name in __all__:
        from pipelines.landing import land

        return getattr(land, name)
    raise AttributeError(f"module 'pipelines.landing' has no attribute {name!r}")
