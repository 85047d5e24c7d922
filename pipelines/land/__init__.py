"""Land: inbox files in, typed and pseudonymised Parquet deliveries out.

Plain functions with no Dagster in them; the CLI and the Dagster assets both call these.
read.py reads CSV, XLSX and Parquet; routes.py and mapping.py shape a vendor's export
into a contract; standard.py, x12.py and fhir.py turn an X12 835 remittance or a FHIR R4
bulk-data NDJSON file into the same contract frames; validate.py judges every row;
land.py drives one delivery end to end. Names are loaded on first use, so that the
mapping modules can import `pipelines.land.read` without importing land.py, which imports
them.
"""

from __future__ import annotations

__all__ = ["FileResult", "LandingReport", "land_entity", "land_inbox"]


def __getattr__(name: str):
    if name in __all__:
        from pipelines.land import land

        return getattr(land, name)
    raise AttributeError(f"module 'pipelines.land' has no attribute {name!r}")
