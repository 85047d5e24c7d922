"""The board deck: `build_deck` writes `<out>.pptx` and `<out>.pdf` for a month, a
quarter or a fiscal year, from the serving file only.

Every number on a slide is a published `kpi_values` row of the period's own grain; each
row's status is its `marts.kpi_status` row, labels, units and the appendix's definitions
come from the KPI catalog, and the year's forecast is `marts.kpi_forecast`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import plotly.graph_objects as go
import polars as pl
from pptx.enum.text import MSO_ANCHOR
from pptx.util import Inches

from dashboards.access import audit, policy
from dashboards.access.principal import AccessDenied, current
from dashboards.data import catalog
from dashboards.data.serving import Serving, Status, read_serving
from dashboards.reports import charts
from dashboards.reports.commentary import read_commentary
from dashboards.reports.figures import GRAINS, SMALL_CELL, KpiTable
from dashboards.reports.formatting import (
    DASH,
    SUPPRESSED,
    band_text,
    cell_text,
    change,
    money,
    value_text,
)
from dashboards.reports.layout import (
    BAD,
    BAD_FILL,
    BODY_TOP,
    CONTENT_W,
    FOOTER_TOP,
    GOOD,
    GOOD_FILL,
    MARGIN,
    MUTED,
    NAVY,
    NEUTRAL,
    NEUTRAL_FILL,
    WHITE,
    DeckLayout,
)
from dashboards.reports.layout import Cell as TableCell
from dashboards.reports.pdf import pptx_to_pdf
from dashboards.reports.periods import Period, add_months, month_label

EXECUTIVE_KPIS = [
    "completed_visits",
    "payments",
    "operating_margin_pct",
    "cost_per_visit",
    "days_in_ar",
    "no_show_rate",
    "work_rvus_per_provider_fte",
    "net_collection_rate",
]
ACCESS_KPIS = [
    "no_show_rate",
    "late_cancel_rate",
    "new_patient_lead_time_days",
    "third_next_available_days",
    "schedule_utilization",
    "lobby_wait_min_p50",
    "wait_for_provider_min_p50",
    "cycle_time_min_p50",
]
PRODUCTIVITY_KPIS = [
    "completed_visits",
    "work_rvus",
    "visits_per_provider_fte",
    "work_rvus_per_provider_fte",
    "new_patient_share",
    "gross_charges",
]
REVENUE_KPIS = [
    "payments",
    "ar_balance",
    "days_in_ar",
    "ar_over_90_share",
    "initial_denial_rate",
    "net_collection_rate",
    "charge_lag_days",
    "ar_credit_balance",
]
COST_KPIS = [
    "operating_cost",
    "labor_cost",
    "cost_per_visit",
    "labor_cost_per_visit",
    "operating_margin",
    "overtime_share",
    "support_staff_per_provider_fte",
    "staff_turnover_rate",
]
BUDGET_LINES = [
    "completed_visits",
    "gross_charges",
    "collections",
    "labor_cost",
]
# Budget line -> the published KPI its year forecast is of (marts.kpi_forecast).
_FORECAST_KPI = {
    "completed_visits": "completed_visits",
    "gross_charges": "gross_charges",
    "collections": "payments",
    "labor_cost": "labor_cost",
    "non_labor": "non_labor_cost",
}
# marts.kpi_status's status as a slide shows it: text, fill, text colour.
_STATUS_SHOWN = {
    "in_band": ("On target", GOOD_FILL, GOOD),
    "out_of_band": ("Off target", BAD_FILL, BAD),
    "no_target": ("No band", NEUTRAL_FILL, NEUTRAL),
    "partial": ("Partial", NEUTRAL_FILL, MUTED),
}
TREND_MONTHS = 13
APPENDIX_PER_SLIDE = 12
SUPPRESSION_NOTE = (
    f"{SUPPRESSED}: a count of 1–{SMALL_CELL - 1} (visits, appointments, claims, staff leaving) "
    "and any rate or median built on it is suppressed, under the usual small-cell rule for "
    "health data."
)


@dataclass(frozen=True)
class DeckOptions:
    practice_name: str
    show_provider_ids: bool = False


@dataclass(frozen=True)
class DeckResult:
    pptx: Path
    pdf: Path
    slide_titles: list[str]
    seconds: float


def build_deck(serving_path: Path, period: Period, out: Path, options: DeckOptions) -> DeckResult:
    """Build as the current principal, and record the build in the home's audit log
    (`serving_path`'s folder): the CLI, Dagster and the dashboard all build through here."""
    started = time.perf_counter()
    principal = current()
    if not policy.may_build_board_deck(principal):
        raise AccessDenied(f"{principal.role or 'no role'}: the board deck is not available")
    # A quarter or year is read from its own published rows, never combined from months.
    serving = read_serving(serving_path, grains=("month", "quarter", "year"))
    if period.start > serving.as_of:
        raise ValueError(f"{period.code} starts after the data's as-of date {serving.as_of}")
    out.parent.mkdir(parents=True, exist_ok=True)
    pptx_path, pdf_path = out.with_name(out.name + ".pptx"), out.with_name(out.name + ".pdf")
    deck = _Deck(serving, period, options, serving_path.parent)
    with charts.chart_renderer() as renderer:
        deck.write(renderer)
    deck.layout.save(pptx_path)
    pptx_to_pdf(pptx_path, pdf_path)
    titles = [s.shapes[0].text_frame.text for s in deck.layout.prs.slides]
    seconds = time.perf_counter() - started
    audit.record(
        "deck_build",
        home=serving_path.parent,
        period=period.code,
        slides=len(titles),
        seconds=round(seconds, 1),
    )
    return DeckResult(pptx_path, pdf_path, titles, seconds)


class _Deck:
    def __init__(
        self, serving: Serving, period: Period, options: DeckOptions, home: Path | None = None
    ):
        self.serving = serving
        self.home = home
        self.period = period
        self.options = options
        self.kpis = KpiTable(serving.kpis)
        self.partial = period.end > serving.as_of
        self.period_text = period.label + (
            f" (partial: data to {serving.as_of:%d %b})" if self.partial else ""
        )
        self.layout = DeckLayout(
            f"{options.practice_name}  ·  Board report {period.label}  ·  "
            f"data as of {serving.as_of:%d %b %Y}"
        )

    def status(self, kpi: str, period: Period) -> Status:
        """The KPI's one status for the period, practice-wide (marts.kpi_status)."""
        return self.serving.statuses.get(kpi, GRAINS[period.months], period.start)

    def label(self, kpi: str) -> str:
        return self.serving.catalog.label(kpi)

    # -- slides -------------------------------------------------------------------------

    def write(self, renderer: charts.ChartRenderer) -> None:
        self.title_slide()
        self.executive_summary()
        self.commentary()
        self.section("Access and patient flow", ACCESS_KPIS, self.access_chart(renderer))
        self.section("Provider productivity", PRODUCTIVITY_KPIS, self.productivity_chart(renderer))
        self.section("Revenue cycle", REVENUE_KPIS, self.aging_chart(renderer))
        self.section("Cost and staffing", COST_KPIS, self.cost_chart(renderer))
        self.pnl(renderer)
        self.budget(renderer)
        self.data_quality()
        self.appendix()

    def title_slide(self) -> None:
        slide = self.layout.slide(self.options.practice_name)
        kind = {1: "Monthly", 3: "Quarterly"}.get(self.period.months, "Annual")
        self.layout.text(
            slide,
            "heading",
            f"{kind} board report: {self.period_text}",
            MARGIN,
            Inches(2.6),
            CONTENT_W,
            Inches(0.9),
            36,
            24,
            bold=True,
            color=NAVY,
        )
        published = self.serving.published_at
        self.layout.text(
            slide,
            "body",
            f"Data as of {self.serving.as_of:%d %B %Y}, the billing system's last posting day. "
            f"Published {published:%d %B %Y %H:%M} UTC. Every figure comes from the practice's "
            "own systems through the weekly reporting run; the appendix defines each measure.",
            MARGIN,
            Inches(3.7),
            CONTENT_W,
            Inches(1.2),
            16,
            12,
            color=MUTED,
        )

    def executive_summary(self) -> None:
        prior, year_ago = self.period.prior(), self.period.year_ago()
        slide = self.layout.slide(
            "Executive summary",
            f"{self.period_text}, with the change from {prior.label} and from {year_ago.label}",
        )
        header = [
            "KPI",
            self.period.label,
            "Target",
            "Status",
            f"vs {prior.label}",
            f"vs {year_ago.label}",
        ]
        aligns = ["left", "right", "right", "center", "right", "right"]
        rows = [[_header(h, align) for h, align in zip(header, aligns, strict=True)]]
        notes: set[str] = set()
        for kpi in EXECUTIVE_KPIS:
            period, label = self.period, self.label(kpi)
            if kpi == "net_collection_rate":
                period, label = self.collection_cohort(label)
            rows.append(self.kpi_row(kpi, label, period, with_status=True))
            notes |= self.row_notes(kpi, period)
        self.layout.table(
            slide, rows, [3.3, 1.75, 1.9, 1.6, 1.85, 1.85], MARGIN, BODY_TOP, 0.5, 16, 11
        )
        self.notes(
            slide,
            sorted(notes)
            + [
                "Status is the one the dashboard and the digest show: the budget where the "
                "practice has one, else the KPI's published benchmark band; a period not "
                "yet complete is not judged. Rates move in percentage points (pp), days and "
                "minutes in their unit, other figures in percent; no change is shown for a "
                "partial period, nor a percent against a zero or negative base."
            ],
        )

    def commentary(self) -> None:
        """The manager's words on the period (dashboards/reports/commentary.py), if any."""
        text = read_commentary(self.home, self.period.code) if self.home else ""
        if not text:
            return
        slide = self.layout.slide("Manager's commentary", self.period_text)
        self.layout.text(slide, "body", text, MARGIN, BODY_TOP, CONTENT_W, Inches(4.9), 20, 11)

    def section(self, title: str, kpis: list[str], chart_png: bytes) -> None:
        prior = self.period.prior()
        slide = self.layout.slide(title, f"{self.period_text}, practice-wide")
        rows = [
            [
                _header("KPI"),
                _header(self.period.label, "right"),
                _header("Target", "right"),
                _header(f"vs {prior.label}", "right"),
            ]
        ]
        notes: set[str] = set()
        for kpi in kpis:
            period, label = self.period, self.label(kpi)
            if kpi == "net_collection_rate":
                period, label = self.collection_cohort(label)
            row = self.kpi_row(kpi, label, period, with_status=False)
            rows.append(row[:3] + row[4:5])
            notes |= self.row_notes(kpi, period)
        self.layout.table(slide, rows, [2.95, 1.35, 1.45, 1.25], MARGIN, BODY_TOP, 0.46, 14, 10)
        self.layout.picture(slide, chart_png, Inches(7.75), BODY_TOP, Inches(5.1), Inches(4.4))
        self.notes(slide, sorted(notes))

    def pnl(self, renderer: charts.ChartRenderer) -> None:
        """Collections and costs against budget for the period and the year to date, from
        the published budget_variance rows (numerator actual, denominator budget)."""
        slide = self.layout.slide(
            "P&L against budget",
            f"{self.period_text} and the year to date ({self.period.last_month.year}); "
            "complete months of published actuals",
        )
        year_start = date(self.period.last_month.year, 1, 1)
        ytd = Period(year_start, self.period.last_month.month)
        rows = [
            [
                _header(h, "left" if i == 0 else "right")
                for i, h in enumerate(
                    [
                        "Line",
                        "Actual",
                        "Budget",
                        "Variance",
                        "YTD actual",
                        "YTD budget",
                        "YTD variance",
                    ]
                )
            ]
        ]
        lines = [("collections", "Collections", +1), ("labor_cost", "Labour cost", -1)] + [
            (k.removeprefix("budget_variance_"), self.label(k), -1) for k in self.gl_lines()
        ]
        totals = {"period": [0.0, 0.0], "ytd": [0.0, 0.0]}  # margin: actual, budget
        bars_x, bars_y, bars_colour = [], [], []
        for line, label, sign in lines:
            kpi = f"budget_variance_{line}"
            now, year = self.kpis.cell(kpi, self.period), self.kpis.cell(kpi, ytd)
            direction = self.serving.catalog.direction(kpi)
            cells = [TableCell(label, bold=line == "collections")]
            for cell in (now, year):
                actual, budget = cell.numerator, cell.denominator
                variance = None if actual is None or budget is None else actual - budget
                key = "period" if cell is now else "ytd"
                if variance is not None:
                    totals[key][0] += sign * actual
                    totals[key][1] += sign * budget
                cells += [
                    TableCell(money(actual) if actual is not None else DASH, align="right"),
                    TableCell(
                        money(budget) if budget is not None else DASH, align="right", color=MUTED
                    ),
                    TableCell(
                        _signed(variance, money) if variance is not None else DASH,
                        align="right",
                        bold=True,
                        color=_tone(_good(variance, direction)),
                    ),
                ]
                if cell is now and variance is not None and line != "collections":
                    bars_x.append(label)
                    bars_y.append(variance)
                    bars_colour.append(charts.RED if variance > 0 else charts.TEAL)
            rows.append(cells)
        margin = [TableCell("Operating margin (collections − costs)", bold=True)]
        for key in ("period", "ytd"):
            actual, budget = totals[key]
            margin += [
                TableCell(money(actual), align="right", bold=True),
                TableCell(money(budget), align="right", color=MUTED),
                TableCell(
                    _signed(actual - budget, money),
                    align="right",
                    bold=True,
                    color=_tone(_good(actual - budget, "higher_is_better")),
                ),
            ]
        rows.append(margin)
        self.layout.table(
            slide, rows, [2.75, 0.95, 0.95, 0.95, 1.0, 1.0, 1.0], MARGIN, BODY_TOP, 0.34, 12, 8
        )
        fig = charts.base_figure(
            "Cost variance against budget", "over (+) / under (−) budget", "$,.2s"
        )
        fig.add_trace(go.Bar(x=bars_y, y=bars_x, orientation="h", marker_color=bars_colour))
        fig.update_layout(
            showlegend=False,
            yaxis={"autorange": "reversed", "title": None, "type": "category"},
            xaxis={
                "tickangle": 0,
                "nticks": 5,
                "type": "linear",
                "title": None,
                "tickformat": "$,.2s",
            },
        )
        self.layout.picture(
            slide, renderer.png(fig, 3.6, 4.6), Inches(9.35), BODY_TOP, Inches(3.6), Inches(4.6)
        )
        self.notes(
            slide,
            [
                "Variance = actual − budget: for collections above zero is good, for costs "
                "below zero is good (green). Operating margin here is collections less "
                "labour and every ledger line, each as published for the budget."
            ],
        )

    def budget(self, renderer: charts.ChartRenderer) -> None:
        slide = self.layout.slide(
            "Budget vs actual, with the year's forecast",
            f"{self.period_text} and the year to date; complete months only",
        )
        year_start = date(self.period.last_month.year, 1, 1)
        ytd = [add_months(year_start, i) for i in range(self.period.last_month.month)]
        rows = [
            [
                _header(h, "left" if i == 0 else "right")
                for i, h in enumerate(
                    ["Line", "Actual", "Budget", "Variance", "YTD variance", "Year forecast"]
                )
            ]
        ]
        lines = BUDGET_LINES + ["non_labor"]
        for line in lines:
            kpis = self.gl_lines() if line == "non_labor" else [f"budget_variance_{line}"]
            label = (
                "Non-labour cost (GL lines)"
                if line == "non_labor"
                else self.serving.catalog.line_label(line)
            )
            unit = "visits" if line == "completed_visits" else "money"
            direction = self.serving.catalog.direction(kpis[0]) if kpis else "neutral"
            actual = budget = 0.0
            found = False
            for kpi in kpis:
                cell = self.kpis.cell(kpi, self.period)
                if cell.present:
                    found = True
                    actual += cell.numerator or 0.0
                    budget += cell.denominator or 0.0
            suppressed = any(self.kpis.cell(k, self.period).suppressed for k in kpis)
            months = [self.month_actuals(kpis, m) for m in ytd]
            done = [m for m in months if m is not None]
            ytd_var = sum(a - b for a, b in done) if done else None
            forecast = self.year_forecast(_FORECAST_KPI[line], year_start)
            variance = actual - budget if found else None
            fmt = (lambda v: value_text(v, "visits")) if unit == "visits" else money
            good = _good(variance, direction)
            rows.append(
                [
                    TableCell(label),
                    TableCell(
                        SUPPRESSED if suppressed else (fmt(actual) if found else DASH),
                        align="right",
                    ),
                    TableCell(fmt(budget) if found else DASH, align="right"),
                    TableCell(
                        SUPPRESSED
                        if suppressed
                        else (_signed(variance, fmt) if variance is not None else DASH),
                        align="right",
                        color=_tone(good),
                        bold=True,
                    ),
                    TableCell(
                        _signed(ytd_var, fmt) if ytd_var is not None else DASH,
                        align="right",
                        color=_tone(_good(ytd_var, direction)),
                    ),
                    TableCell(fmt(forecast) if forecast is not None else DASH, align="right"),
                ]
            )
        self.layout.table(
            slide, rows, [2.6, 1.05, 1.05, 1.05, 1.15, 1.2], MARGIN, BODY_TOP, 0.5, 13, 9
        )
        self.layout.picture(
            slide,
            renderer.png(self.budget_figure(ytd), 4.55, 4.2),
            Inches(8.7),
            BODY_TOP,
            Inches(4.15),
            Inches(3.85),
        )
        self.notes(
            slide,
            [
                "Year forecast (for the year holding the data's as-of date): actual for the "
                "complete months so far, plus each remaining month at the average of the last "
                "three complete months (a run rate, no seasonality). Variance = actual − budget; "
                "green is on the good side.",
            ],
        )

    def data_quality(self) -> None:
        s = self.serving
        slide = self.layout.slide("Data quality", "What was delivered, loaded and rejected")
        by_source: dict[str, list[int]] = {}
        for r in s.deliveries.iter_rows(named=True):
            totals = by_source.setdefault(r["source"], [0, 0, 0, 0])
            totals[0] += 1
            totals[1] += r["rows_received"] or 0
            totals[2] += r["rows_loaded"] or 0
            totals[3] += r["rows_rejected"] or 0
        rows = [
            [
                _header(h, "left" if i == 0 else "right")
                for i, h in enumerate(
                    ["Source system", "Files", "Rows received", "Loaded", "Rejected"]
                )
            ]
        ]
        for source, (files, received, loaded, rejected) in sorted(by_source.items()):
            rows.append(
                [
                    TableCell(_SOURCE_WORDS.get(source, source.replace("_", " ").capitalize())),
                    TableCell(f"{files:,}", align="right"),
                    TableCell(f"{received:,}", align="right"),
                    TableCell(f"{loaded:,}", align="right"),
                    TableCell(
                        f"{rejected:,}",
                        align="right",
                        color=BAD if rejected else NEUTRAL,
                        bold=bool(rejected),
                    ),
                ]
            )
        self.layout.table(slide, rows, [2.6, 1.0, 1.7, 1.7, 1.3], MARGIN, BODY_TOP, 0.42, 14, 10)
        rejected = (
            s.rejected_by_column.group_by("entity", "column_name")
            .agg(pl.col("rows").sum())
            .sort("rows", "entity", "column_name", descending=[True, False, False])
        )
        where = "; ".join(
            f"{_ENTITY_WORDS.get(r['entity'], r['entity'].replace('_', ' '))}: {r['rows']:,} "
            f"with an unreadable {_column_words(r['column_name'])}"
            for r in rejected.head(4).iter_rows(named=True)
        )
        checks = "; ".join(
            f"{n:,} {_CHECK_WORDS.get(name, name)}" for name, n in s.dq_counts.items() if n
        )
        self.layout.text(
            slide,
            "body",
            f"Figures count activity up to {s.as_of:%d %B %Y}, the last day the billing "
            "system posted.\n"
            "Rows that could not be read are set aside, not guessed at, and do not count"
            f"{' (' + where + ')' if where else ''}.\n"
            + (
                (f"Checked after loading: {checks}." if checks else "Every later check passed.")
                if s.dq_counts  # empty: not for this reader's role
                else ""
            )
            # Pointing a board member at a page their role cannot open helps nobody.
            + (
                "\nDetails, file by file, are on the dashboard's data-quality page."
                if policy.may_see_data_quality(current())
                else ""
            ),
            MARGIN,
            BODY_TOP + Inches(0.42 * len(rows) + 0.35),
            CONTENT_W,
            Inches(1.9),
            16,
            11,
        )

    def appendix(self) -> None:
        """Each measure the deck shows, defined as the KPI catalog defines it, so a board
        member reads the same definition the dashboards and the digest use."""
        shown = dict.fromkeys(
            [*EXECUTIVE_KPIS, *ACCESS_KPIS, *PRODUCTIVITY_KPIS, *REVENUE_KPIS, *COST_KPIS]
        )
        entries = [(e.label, e.description) for e in map(self.serving.catalog.entry, shown)]
        if catalog.PATTERN in self.serving.catalog.entries:  # one definition, every line
            budget = self.serving.catalog.entries[catalog.PATTERN]
            entries.append((budget.label.replace("{line}", "each line"), budget.description))
        pages = [
            entries[i : i + APPENDIX_PER_SLIDE] for i in range(0, len(entries), APPENDIX_PER_SLIDE)
        ]
        column_w = (CONTENT_W - Inches(0.3)) // 2
        for number, page in enumerate(pages, start=1):
            slide = self.layout.slide(
                "Appendix: definitions",
                f"How each measure is computed ({number} of {len(pages)})",
            )
            half = (len(page) + 1) // 2
            for column, chunk in enumerate((page[:half], page[half:])):
                if not chunk:
                    continue
                self.layout.text(
                    slide,
                    "body",
                    "\n".join(f"{label}: {text}" for label, text in chunk),
                    MARGIN + column * (column_w + Inches(0.3)),
                    BODY_TOP,
                    column_w,
                    FOOTER_TOP - BODY_TOP - Inches(0.1),
                    13,
                    9,
                )

    # -- pieces ---------------------------------------------------------------------------

    def kpi_row(self, kpi: str, label: str, period: Period, with_status: bool):
        unit, direction = self.serving.catalog.unit(kpi), self.serving.catalog.direction(kpi)
        cell = self.kpis.cell(kpi, period)
        judged = self.status(kpi, period)
        text, fill, tone = _STATUS_SHOWN[judged.status]
        if cell.suppressed:
            text, fill, tone = SUPPRESSED, NEUTRAL_FILL, NEUTRAL
        has_band = judged.low is not None or judged.high is not None
        row = [
            TableCell(label),
            TableCell(cell_text(cell, unit), bold=True, align="right"),
            TableCell(
                band_text(judged.low, judged.high, unit) if has_band else DASH,
                align="right",
                color=MUTED,
            ),
            TableCell(text, fill=fill, color=tone, bold=True, align="center"),
        ]
        for other in (period.prior(), period.year_ago()):
            partial = period.end > self.serving.as_of
            change_text, delta = change(cell, self.kpis.cell(kpi, other), unit, partial)
            row.append(TableCell(change_text, align="right", color=_tone(_good(delta, direction))))
        return row if with_status else row[:3] + row[4:]

    def row_notes(self, kpi: str, period: Period) -> set[str]:
        notes = set()
        if self.kpis.cell(kpi, period).suppressed or any(
            self.kpis.cell(kpi, p).suppressed for p in (period.prior(), period.year_ago())
        ):
            notes.add(SUPPRESSION_NOTE)
        if kpi == "net_collection_rate" and period != self.period:
            notes.add(
                "Net collection rate is shown for the newest service month at least 90 "
                "days before the as-of date, so that its payments have arrived."
            )
        return notes

    def collection_cohort(self, label: str) -> tuple[Period, str]:
        """The newest service month(s) whose net collection rate is published."""
        # Month grain only (KPI_SPEC.md): a quarter or year shows its newest cohort month.
        if self.period.months == 1 and self.kpis.row("net_collection_rate", self.period.start):
            return self.period, label
        month = self.period.last_month
        for _ in range(24):
            if self.kpis.row("net_collection_rate", month):
                return Period(month, 1), f"{label} ({month_label(month)} services)"
            month = add_months(month, -1)
        return self.period, label

    def notes(self, slide, notes: list[str]) -> None:
        if notes:
            self.layout.text(
                slide,
                "note",
                "\n".join(notes),
                MARGIN,
                Inches(6.05),
                CONTENT_W,
                Inches(0.9),
                12,
                8,
                color=MUTED,
                anchor=MSO_ANCHOR.BOTTOM,
            )

    def trend_months(self) -> list[date]:
        return [add_months(self.period.last_month, -i) for i in range(TREND_MONTHS - 1, -1, -1)]

    def monthly(self, kpi: str, months: list[date]) -> list[float | None]:
        return [self.kpis.cell(kpi, Period(m, 1)).shown for m in months]

    def gl_lines(self) -> list[str]:
        named = {f"budget_variance_{line}" for line in BUDGET_LINES}
        published = self.serving.kpis.filter(
            self.serving.kpis["kpi"].str.starts_with("budget_variance_")
        )["kpi"].unique()
        return sorted(k for k in published.to_list() if k not in named)

    def year_forecast(self, kpi: str, year_start: date) -> float | None:
        """The practice's run-rate forecast of `kpi` for the year starting `year_start`
        (marts.kpi_forecast), None when that is not the year being forecast."""
        f = self.serving.forecast
        if f.is_empty():
            return None
        row = f.filter(
            (f["scope"] == "practice") & (f["kpi"] == kpi) & (f["year_start"] == year_start)
        )
        return row["forecast"][0] if row.height else None

    def month_actuals(self, kpis: list[str], month: date) -> tuple[float, float] | None:
        cells = [self.kpis.cell(k, Period(month, 1)) for k in kpis]
        if not any(c.present for c in cells):
            return None
        return (sum(c.numerator or 0.0 for c in cells), sum(c.denominator or 0.0 for c in cells))

    # -- charts ---------------------------------------------------------------------------

    def access_chart(self, renderer) -> bytes:
        months = self.trend_months()
        x = [f"{m:%b %y}" for m in months]
        fig = charts.base_figure(
            "No-show and late-cancel rate by month", "share of appointments", ".0%"
        )
        fig.add_trace(
            go.Scatter(
                x=x,
                y=self.monthly("no_show_rate", months),
                name="No-show",
                mode="lines+markers",
                line={"color": charts.NAVY, "width": 3},
            )
        )
        fig.add_trace(
            go.Scatter(
                x=x,
                y=self.monthly("late_cancel_rate", months),
                name="Late cancel",
                mode="lines+markers",
                line={"color": charts.TEAL, "width": 3},
            )
        )
        high = self.status("no_show_rate", self.period).high
        if high is not None:
            fig.add_hline(
                y=high,
                line={"color": charts.RED, "dash": "dash"},
                annotation_text="no-show target",
                annotation_position="bottom left",
            )
        return renderer.png(fig, 5.1, 4.4)

    def productivity_chart(self, renderer) -> bytes:
        p = self.period
        scope = "provider"
        ids = self.kpis.scope_ids(scope, "work_rvus_per_provider_fte", p.month_starts)
        if not ids:
            # A reader without provider rows (the board) gets the locations instead of
            # an empty chart.
            scope = "location"
            ids = self.kpis.scope_ids(scope, "work_rvus_per_provider_fte", p.month_starts)
        values, hidden = [], 0
        for scope_id in ids:
            if self.kpis.cell("completed_visits", p, scope, scope_id).suppressed:
                hidden += 1
                continue
            value = self.kpis.cell("work_rvus_per_provider_fte", p, scope, scope_id).shown
            if value is not None:
                values.append((value, scope_id))
        values.sort(reverse=True)
        named = scope == "location" or self.options.show_provider_ids
        labels = (
            [self.serving.names.of(scope, i) for _, i in values]
            if named
            else [f"#{i}" for i in range(1, len(values) + 1)]
        )
        title = f"wRVUs per FTE by {scope}" + ("" if named else " (anonymised, ranked)")
        fig = charts.base_figure(title, "wRVUs per FTE")
        fig.add_trace(
            go.Bar(x=labels, y=[v for v, _ in values], marker_color=charts.TEAL, name=scope)
        )
        practice = self.kpis.cell("work_rvus_per_provider_fte", p).shown
        if practice is not None:
            fig.add_hline(
                y=practice,
                line={"color": charts.NAVY, "dash": "dash"},
                annotation_text="practice",
                annotation_position="top right",
            )
        fig.update_layout(showlegend=False, xaxis={"type": "category"})
        if len(values) > 20:  # one label per bar would be an unreadable comb
            fig.update_xaxes(showticklabels=False, title=f"{len(values)} {scope}s, ranked")
        if hidden:
            fig.update_xaxes(
                title=f"{hidden} {scope}(s) with fewer than {SMALL_CELL} visits not shown"
            )
        return renderer.png(fig, 5.1, 4.4)

    def aging_chart(self, renderer) -> bytes:
        months = self.trend_months()
        x = [f"{m:%b %y}" for m in months]
        fig = charts.base_figure(
            "A/R by age at each month end; credit balances below zero", "balance", "$,.0s"
        )
        buckets = [
            ("0_30", "0–30 days"),
            ("31_60", "31–60"),
            ("61_90", "61–90"),
            ("91_120", "91–120"),
            ("over_120", "over 120"),
        ]
        colours = [charts.TEAL, "#76c5bb", charts.LIGHT, "#e9a39b", charts.RED]
        for (bucket, name), colour in zip(buckets, colours, strict=True):
            fig.add_trace(
                go.Bar(
                    x=x,
                    y=self.monthly(f"ar_aging_{bucket}", months),
                    name=name,
                    marker_color=colour,
                )
            )
        # Credit balances are money the practice may owe back, not a younger A/R: they
        # stand apart, below the axis, never netted into an age bucket (KPI_SPEC.md).
        credits = self.monthly("ar_credit_balance", months)
        fig.add_trace(
            go.Bar(
                x=x,
                y=[None if v is None else -v for v in credits],
                name="credit balances",
                marker_color=charts.GREY,
            )
        )
        fig.update_layout(barmode="relative", yaxis={"rangemode": "normal"})
        return renderer.png(fig, 5.1, 4.4)

    def cost_chart(self, renderer) -> bytes:
        months = self.trend_months()
        x = [f"{m:%b %y}" for m in months]
        fig = charts.base_figure("Collections and operating cost by month", "per month", "$,.0s")
        fig.add_trace(
            go.Bar(
                x=x,
                y=self.monthly("payments", months),
                name="Collections",
                marker_color=charts.TEAL,
            )
        )
        fig.add_trace(
            go.Scatter(
                x=x,
                y=self.monthly("operating_cost", months),
                name="Operating cost",
                mode="lines+markers",
                line={"color": charts.NAVY, "width": 3},
            )
        )
        return renderer.png(fig, 5.1, 4.4)

    def budget_figure(self, ytd: list[date]) -> go.Figure:
        kpis = ["budget_variance_collections"]
        pairs = [self.month_actuals(kpis, m) for m in ytd]
        done = [(m, p) for m, p in zip(ytd, pairs, strict=True) if p is not None]
        fig = charts.base_figure(f"Collections vs budget, {ytd[0].year}", "per month", "$,.0s")
        x = [month_label(m)[:3] for m, _ in done]
        fig.add_trace(
            go.Bar(x=x, y=[a for _, (a, _) in done], name="Actual", marker_color=charts.TEAL)
        )
        fig.add_trace(
            go.Scatter(
                x=x,
                y=[b for _, (_, b) in done],
                name="Budget",
                mode="lines+markers",
                line={"color": charts.NAVY, "width": 3, "dash": "dot"},
            )
        )
        months = self.serving.forecast_months
        if not months.is_empty():
            rest = months.filter(
                (months["scope"] == "practice")
                & (months["kpi"] == "payments")
                & (months["month_start"].dt.year() == ytd[0].year)
            )
            if rest.height:
                fig.add_trace(
                    go.Bar(
                        x=[month_label(m)[:3] for m in rest["month_start"].to_list()],
                        y=rest["value"].to_list(),
                        name="Forecast",
                        marker={"color": charts.LIGHT, "line": {"color": charts.GREY, "width": 1}},
                    )
                )
        fig.update_layout(xaxis={"type": "category"})
        return fig


# The data-quality slide in a board member's words: no file or column names.
_ENTITY_WORDS = {
    "appointments": "appointments",
    "provider_slots": "schedule slots",
    "charges": "charge lines",
    "claims": "claims",
    "transactions": "payments or denials",
    "payers": "payers",
    "timesheets": "timesheet rows",
    "staff": "staff records",
    "gl_expenses": "ledger lines",
    "budget": "budget lines",
    "locations": "locations",
    "providers": "providers",
}
_SOURCE_WORDS = {
    "scheduling": "Scheduling system",
    "billing": "Billing system",
    "hr": "Payroll and HR",
    "finance": "General ledger and budget",
    "reference": "Practice reference lists",
}
_CHECK_WORDS = {
    "orphan rows": "rows that point to a record that was never delivered (left out)",
    "wait-time rule violations": "visit times out of order (left out of the wait times)",
    "charge lines with an unmatched CPT code": "charge lines with a procedure code that has "
    "no work RVU (counted at zero)",
}


def _column_words(column: str) -> str:
    """`cancelled_at` reads "cancellation time", `charge_amount` "charge amount"."""
    known = {
        "cancelled_at": "cancellation time",
        "scheduled_start": "scheduled start time",
        "checked_in_at": "check-in time",
        "service_date": "service date",
    }
    if column in known:
        return known[column]
    return column.removesuffix("_at").replace("_", " ") + (
        " time" if column.endswith("_at") else ""
    )


def _header(text: str, align: str = "left") -> TableCell:
    return TableCell(text, bold=True, color=WHITE, fill=NAVY, align=align)


def _good(delta: float | None, direction: str) -> bool | None:
    if delta is None or delta == 0 or direction not in ("higher_is_better", "lower_is_better"):
        return None
    return (delta > 0) == (direction == "higher_is_better")


def _tone(good: bool | None) -> str:
    return NEUTRAL if good is None else (GOOD if good else BAD)


def _signed(value: float, fmt) -> str:
    return ("+" if value > 0 else "−" if value < 0 else "") + fmt(abs(value))
