"""The landing library: inbox files in, typed and pseudonymised Parquet deliveries out.

Plain functions with no Dagster in them; the CLI and the Dagster assets both call these.
"""

from pipelines.landing.land import FileResult, LandingReport, land_entity, land_inbox

__all__ = ["FileResult", "LandingReport", "land_entity", "land_inbox"]
