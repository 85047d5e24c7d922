"""The one Dagster resource: which practice home, inbox folders, config file and as-of date.

Its fields are read when a run starts, never at import, so `dagster dev` and
`clinicops run` differ only in where the values come from (environment vs arguments).
"""

import os
from datetime import date
from pathlib import Path

from dagster import ConfigurableResource

from pipelines.core.config import Config, load_config
from pipelines.core.engine import Engine
from pipelines.core.home import Home


class ClinicopsResource(ConfigurableResource):
    home: str
    # One or more inbox folders (inbox layout of CONTRACTS.md), separated by os.pathsep;
    # landed in the order given.
    inbox: str
    config_path: str = ""
    as_of: str = ""  # YYYY-MM-DD; empty means the KPI_SPEC.md default
    engine: str = "duckdb"  # the dbt target that builds the marts: duckdb or spark

    def practice_home(self) -> Home:
        return Home(Path(self.home))

    def inbox_dirs(self) -> list[Path]:
        """The inboxes given, then the one pulled sources deliver into, if any."""
        dirs = [Path(p) for p in self.inbox.split(os.pathsep) if p]
        config = self.practice_config()
        if config.pull.sources:
            from pipelines.pull import pull_inbox

            pulled = pull_inbox(self.practice_home(), config)
            if pulled not in dirs:
                dirs.append(pulled)
        return dirs

    def practice_config(self) -> Config:
        return load_config(Path(self.config_path) if self.config_path else None)

    def as_of_date(self) -> date | None:
        return date.fromisoformat(self.as_of) if self.as_of else None

    def build_engine(self) -> Engine:
        return Engine(self.engine)
