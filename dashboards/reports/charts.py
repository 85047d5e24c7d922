"""Chart images for the deck: Plotly figures rendered to PNG by kaleido in Debian's
chromium.

kaleido 1.x starts a browser for every image unless its sync server runs, so a deck
starts it once and renders every chart through it. kaleido passes no flags of its own
to the browser, and chromium needs some to run headless in a container without reaching
out to the network (shared/STACK_NOTES.md): BROWSER_PATH points at a small wrapper script
that adds them.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import plotly.graph_objects as go

CHROMIUM_FLAGS = (
    "--headless --no-sandbox --disable-gpu --no-first-run --disable-background-networking "
    "--disable-component-update --disable-sync "
    '--host-resolver-rules="MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1"'
)
PX_PER_INCH = 96
SCALE = 2  # images at twice the slide's pixel density stay sharp on a projector

NAVY = "#1f3a5f"
TEAL = "#2a9d8f"
GREY = "#8d99ae"
RED = "#c0392b"
LIGHT = "#d9e2ec"


def find_chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        raise RuntimeError("chromium is not installed (Debian package chromium)")
    return found


@contextmanager
def chart_renderer() -> Iterator[ChartRenderer]:
    import kaleido

    with tempfile.TemporaryDirectory(prefix="clinicops-kaleido-") as tmp:
        wrapper = Path(tmp) / "chromium"
        wrapper.write_text(f'#!/bin/sh\nexec {find_chromium()} {CHROMIUM_FLAGS} "$@"\n')
        wrapper.chmod(0o755)
        previous = os.environ.get("BROWSER_PATH")
        os.environ["BROWSER_PATH"] = str(wrapper)
        kaleido.start_sync_server(silence_warnings=True)
        try:
            yield ChartRenderer()
        finally:
            kaleido.stop_sync_server(silence_warnings=True)
            if previous is None:
                os.environ.pop("BROWSER_PATH", None)
            else:
                os.environ["BROWSER_PATH"] = previous


class ChartRenderer:
    def png(self, figure: go.Figure, width_in: float, height_in: float) -> bytes:
        figure.update_layout(
            width=round(width_in * PX_PER_INCH), height=round(height_in * PX_PER_INCH)
        )
        with warnings.catch_warnings():
            # plotly hands kaleido options that the running server already has.
            warnings.filterwarnings("ignore", message="The kopts argument is ignored")
            return figure.to_image(format="png", scale=SCALE)


def base_figure(title: str, y_title: str, y_format: str | None = None) -> go.Figure:
    fig = go.Figure()
    fig.update_layout(
        template="plotly_white",
        font={"family": "Liberation Sans, Arial, sans-serif", "size": 15, "color": "#222"},
        title={"text": title, "x": 0.01, "font": {"size": 18, "color": NAVY}},
        margin={"l": 70, "r": 20, "t": 60, "b": 60},
        legend={"orientation": "h", "y": -0.15, "x": 0},
        yaxis={"title": y_title, "tickformat": y_format, "rangemode": "tozero"},
        # Level month names, as many as fit (13 rotated labels overlapped on a half slide).
        xaxis={"tickangle": 0, "nticks": 7, "automargin": True},
    )
    return fig
