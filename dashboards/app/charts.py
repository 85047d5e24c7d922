"""Plotly figures with titles that say what and in which unit, sized to read on a laptop
and on a projector (large type, few gridlines, horizontal legends)."""

from __future__ import annotations

import textwrap
from datetime import date

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from dashboards.data.catalog import currency

FONT_SIZE = 15
HEIGHT = 380
VALUE_TICKS = 6  # at most this many ticks on a value axis: they never crowd a narrow column
LABEL_WIDTH = 28  # characters per line of a category label before it wraps
# Plotly's colour-blind-safe qualitative palette (px.colors.qualitative.Safe): distinct on a
# projector too.
COLORS = [
    "#88CCEE", "#CC6677", "#DDCC77", "#117733", "#332288", "#AA4499",
    "#44AA99", "#999933", "#882255", "#661100", "#6699CC", "#888888",
]  # fmt: skip
GOOD, BAD, NEUTRAL = "#1b7f3b", "#c0392b", "#6c757d"


def axis_format(unit: str | None) -> dict:
    if unit in ("share", "share per year"):
        return {"tickformat": ".1~%"}
    if unit in ("money", "money per visit"):
        return {"tickprefix": currency(), "tickformat": ",.0f"}
    return {"tickformat": None}


def unit_title(unit: str | None) -> str:
    return {
        "share": "%",
        "share per year": "% per year",
        "money": currency(),
        "money per visit": f"{currency()} per visit",
    }.get(unit or "", unit or "")


def numbers(values: pd.Series) -> pd.Series:
    """Values as floats. A column holding None arrives from DuckDB as objects, and Plotly
    draws objects on a category axis: one tick per distinct value, smeared into a band."""
    return pd.to_numeric(values, errors="coerce").astype(float)


def wrap_label(text: str, width: int = LABEL_WIDTH) -> str:
    """A long category label on up to two lines (Plotly breaks lines at <br>)."""
    lines = textwrap.wrap(str(text), width) or [""]
    if len(lines) > 2:
        lines = [lines[0], textwrap.shorten(" ".join(lines[1:]), width, placeholder="…")]
    return "<br>".join(lines)


def _style(fig: go.Figure, title: str, unit: str | None, height: int = HEIGHT) -> go.Figure:
    fig.update_layout(
        title={"text": title, "font": {"size": FONT_SIZE + 3}},
        font={"size": FONT_SIZE},
        height=height,
        margin={"l": 10, "r": 10, "t": 50, "b": 10},
        legend={"orientation": "h", "yanchor": "top", "y": -0.12, "x": 0, "title": None},
        hovermode="x unified",
        colorway=COLORS,
    )
    fig.update_yaxes(
        title=unit_title(unit),
        rangemode="tozero",
        type="linear",
        nticks=VALUE_TICKS,
        automargin=True,
        **axis_format(unit),
    )
    fig.update_xaxes(title=None, automargin=True)
    if _monthly(fig):
        # A tick per month only while they fit (a half-width chart holds about six).
        if _points(fig) <= VALUE_TICKS:
            fig.update_xaxes(tickformat="%b %Y", dtick="M1")
        else:
            fig.update_xaxes(tickformat="%b %Y", nticks=VALUE_TICKS)
    return fig


def _monthly(fig: go.Figure) -> bool:
    """Month-grain figures get month names on the axis, not the day Plotly picks."""
    values = [x for trace in fig.data for x in (trace.x if trace.x is not None else ())]
    # Only dates: numbers (a horizontal bar's values) would parse as days of January 1970.
    if not values or not all(isinstance(v, (date, pd.Timestamp, np.datetime64)) for v in values):
        return False
    days = pd.to_datetime(pd.Series(values), errors="coerce", format="mixed")
    return bool(len(days)) and days.notna().all() and (days.dt.day == 1).all()


def _points(fig: go.Figure) -> int:
    return len({x for trace in fig.data for x in (trace.x if trace.x is not None else ())})


def _traces(data: pd.DataFrame, series: str | None) -> list[tuple[str, pd.DataFrame]]:
    if series is None:
        return [("", data)]
    return [(str(name), part) for name, part in data.groupby(series, sort=False)]


def over_time(
    data: pd.DataFrame,
    title: str,
    unit: str | None,
    series: str | None = None,
    band: tuple[float | None, float | None] | None = None,
    kind: str = "line",
) -> go.Figure:
    """Values by period (`period_start`, `value`), one line per `series` if given."""
    fig = go.Figure()
    for index, (name, part) in enumerate(_traces(data, series)):
        color = COLORS[index % len(COLORS)]
        if kind == "line":
            fig.add_trace(
                go.Scatter(
                    x=part["period_start"],
                    y=numbers(part["value"]),
                    name=name,
                    mode="lines+markers",
                    line={"color": color},
                    showlegend=series is not None,
                )
            )
        else:
            fig.add_trace(
                go.Bar(
                    x=part["period_start"],
                    y=numbers(part["value"]),
                    name=name,
                    marker_color=color,
                    showlegend=series is not None,
                )
            )
    if band and (band[0] is not None or band[1] is not None):
        low = band[0] if band[0] is not None else 0
        high = band[1] if band[1] is not None else numbers(data["value"]).max()
        fig.add_hrect(
            y0=low,
            y1=high,
            fillcolor=GOOD,
            opacity=0.08,
            line_width=0,
            annotation_text="target",
            annotation_position="top left",
        )
    return _style(fig, title, unit)


def stacked(
    data: pd.DataFrame,
    x: str,
    y: str,
    color: str,
    title: str,
    unit: str | None,
    order: list[str] | None = None,
) -> go.Figure:
    fig = go.Figure()
    parts = dict(_traces(data, color))
    for index, name in enumerate(order or list(parts)):
        if name in parts:
            fig.add_trace(
                go.Bar(
                    x=parts[name][x],
                    y=numbers(parts[name][y]),
                    name=name,
                    marker_color=COLORS[index % len(COLORS)],
                )
            )
    fig.update_layout(barmode="relative")
    return _style(fig, title, unit)


def bars(
    data: pd.DataFrame,
    x: str,
    y: str,
    title: str,
    unit: str | None,
    color: str | None = None,
    horizontal: bool = False,
) -> go.Figure:
    fig = go.Figure()
    for index, (name, part) in enumerate(_traces(data, color)):
        marker = {"color": COLORS[index % len(COLORS)]}
        if horizontal:
            fig.add_trace(
                go.Bar(
                    x=numbers(part[y]),
                    y=part[x].map(wrap_label),
                    name=name,
                    orientation="h",
                    marker=marker,
                    showlegend=color is not None,
                )
            )
        else:
            fig.add_trace(
                go.Bar(
                    x=part[x],
                    y=numbers(part[y]),
                    name=name,
                    marker=marker,
                    showlegend=color is not None,
                )
            )
    if horizontal:
        lines = sum(wrap_label(v).count("<br>") + 1 for v in data[x])
        fig = _style(fig, title, None, height=max(HEIGHT, 24 * lines + 12 * len(data) + 120))
        fig.update_xaxes(
            title=unit_title(unit),
            type="linear",
            rangemode="tozero",
            nticks=VALUE_TICKS,
            **axis_format(unit),
        )
        fig.update_yaxes(
            type="category",
            autorange="reversed",
            title=None,
            tickformat=None,
            rangemode="normal",
            nticks=None,
            tickprefix=None,
        )
        fig.update_layout(hovermode="closest")
        return fig
    return _style(fig, title, unit)


WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


def heatmap(data: pd.DataFrame, value: str, title: str) -> go.Figure:
    """Weekday × hour of the scheduled start; empty cells stay blank."""
    grid = data.pivot(index="weekday", columns="hour", values=value).sort_index()
    fig = go.Figure(
        go.Heatmap(
            z=grid.values,
            x=[f"{h:02d}:00" for h in grid.columns],
            y=[WEEKDAYS[d - 1] for d in grid.index],
            colorscale="YlOrRd",
            colorbar={"title": "min"},
            hovertemplate="%{y} %{x}: %{z:.1f} min<extra></extra>",
        )
    )
    fig = _style(fig, title, None)
    fig.update_yaxes(
        type="category", autorange="reversed", rangemode="normal", tickformat=None, title=None
    )
    fig.update_xaxes(type="category", nticks=12)
    fig.update_layout(hovermode="closest")
    return fig


def peers(
    data: pd.DataFrame,
    selected: str | None,
    title: str,
    unit: str | None,
    label: str | None = None,
) -> go.Figure:
    """Every provider's value as an unlabelled dot on a box; only the chosen one is named."""
    fig = go.Figure()
    fig.add_trace(
        go.Box(
            x=numbers(data["value"]),
            name="peers",
            boxpoints="all",
            jitter=0.4,
            pointpos=0,
            marker={"color": NEUTRAL, "size": 9},
            line={"color": NEUTRAL},
            hoverinfo="x",
            fillcolor="rgba(0,0,0,0)",
        )
    )
    if selected is not None:
        mine = data[data["scope_id"] == selected]
        if not mine.empty:
            fig.add_trace(
                go.Scatter(
                    x=numbers(mine["value"]),
                    y=["peers"],
                    mode="markers+text",
                    marker={"color": COLORS[0], "size": 18, "symbol": "diamond"},
                    text=[label or selected],
                    textposition="top center",
                    cliponaxis=False,
                    name=label or selected,
                )
            )
    fig = _style(fig, title, None, height=220)
    fig.update_xaxes(
        title=unit_title(unit), type="linear", nticks=VALUE_TICKS - 1, **axis_format(unit)
    )
    fig.update_yaxes(
        type="category",
        showticklabels=False,
        title=None,
        rangemode="normal",
        tickformat=None,
        tickprefix=None,
    )
    fig.update_layout(showlegend=False, hovermode="closest", margin={"t": 50, "b": 10})
    return fig


def forecast(
    actual: pd.DataFrame,
    projected: pd.DataFrame,
    budget: pd.DataFrame | None,
    title: str,
    unit: str | None,
) -> go.Figure:
    """Monthly actuals, the run-rate projection with its interval, and the budget."""
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=pd.concat([projected["month"], projected["month"][::-1]]),
            y=pd.concat([projected["high"], projected["low"][::-1]]),
            fill="toself",
            fillcolor="rgba(51,102,204,0.15)",
            line={"width": 0},
            name="95% interval",
            hoverinfo="skip",
        )
    )
    fig.add_trace(
        go.Bar(x=actual["month"], y=numbers(actual["value"]), name="actual", marker_color=COLORS[0])
    )
    fig.add_trace(
        go.Scatter(
            x=projected["month"],
            y=projected["value"],
            name="forecast",
            mode="lines+markers",
            line={"dash": "dash", "color": COLORS[0]},
        )
    )
    if budget is not None and not budget.empty:
        fig.add_trace(
            go.Scatter(
                x=budget["month"],
                y=budget["value"],
                name="budget",
                mode="lines+markers",
                line={"color": NEUTRAL},
            )
        )
    return _style(fig, title, unit)
