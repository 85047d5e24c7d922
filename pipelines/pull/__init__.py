"""Sources clinicops fetches exports from itself: SFTP drops, read-only SQL queries and
FHIR bulk $export (docs/sources.md). Each writes what it fetched into the inbox, where
landing takes it as it takes any delivered file."""

from pipelines.pull.base import PullError
from pipelines.pull.run import SourceResult, check, pull, pull_inbox, pull_source

__all__ = ["PullError", "SourceResult", "check", "pull", "pull_inbox", "pull_source"]
