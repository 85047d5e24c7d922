"""The board deck built on demand in the dashboard: the periods a deck can be built for,
and a build that hands back the files' bytes for download.

The deck reads through `read_serving`, scoped to the principal bound for the build, so a
board member's deck holds what a board member may read. One build runs at a time per
dashboard process: the chart renderer is kaleido's process-wide browser server (and its
BROWSER_PATH), which two overlapping builds would start and stop under each other.
"""

from __future__ import annotations

import tempfile
import threading
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from dashboards.reports.deck import DeckOptions, build_deck
from dashboards.reports.periods import Period

_ONE_BUILD_AT_A_TIME = threading.Lock()


@dataclass(frozen=True)
class DeckFiles:
    period: Period
    pptx: bytes
    pdf: bytes
    slides: int
    seconds: float  # the build itself, not the wait for another user's build

    def file_name(self, suffix: str) -> str:
        return f"board-{self.period.code}.{suffix}"


def deck_periods(months: list[date], as_of: date) -> tuple[list[Period], list[Period]]:
    """Complete months and complete quarters among the published months, newest first:
    a board reads closed periods, and a partial one would read as a collapse. The first
    published month is left out: the data rarely starts on the 1st (the sample's first
    month holds a week), and a deck compares each period with the one before."""
    complete = {m for m in sorted(months)[1:] if Period(m, 1).end <= as_of}
    quarters = {Period(date(m.year, (m.month - 1) // 3 * 3 + 1, 1), 3) for m in complete}
    return (
        [Period(m, 1) for m in sorted(complete, reverse=True)],
        sorted(
            (q for q in quarters if set(q.month_starts) <= complete),
            key=lambda q: q.start,
            reverse=True,
        ),
    )


def build_deck_files(serving: Path, period: Period, options: DeckOptions) -> DeckFiles:
    with _ONE_BUILD_AT_A_TIME, tempfile.TemporaryDirectory(prefix="clinicops-deck-") as tmp:
        result = build_deck(serving, period, Path(tmp) / f"board-{period.code}", options)
        return DeckFiles(
            period,
            result.pptx.read_bytes(),
            result.pdf.read_bytes(),
            len(result.slide_titles),
            result.seconds,
        )
