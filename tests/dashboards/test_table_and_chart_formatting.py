"""The one formatting layer of tables, downloads and charts, without a browser: human
headers, a number format for every numeric column, the same headers and formats in the
XLSX download, and value axes that stay numeric when a column holds nulls (a column of
objects once put every value on a category axis: ticks smeared into a band)."""

from __future__ import annotations

import io
import re
import zipfile

import pandas as pd
import pytest

from dashboards.app.charts import (
    bars,
    numbers,
    over_time,
    peers,
    wrap_label,
)
from dashboards.app.components import column_config, to_xlsx
from dashboards.app.formatting import column_unit, fmt, header, number_format

FIRST_RESPONSES = pd.DataFrame(
    {
        "payer_id": ["PY001", "PY002"],
        "payer_name": ["Prairie Blue PPO", "Medicare Part B"],
        "financial_class": ["commercial", "medicare"],
        "claims_responded": [2014, 1366],
        "claims_denied": [224, 143],
    }
)
BUDGET = pd.DataFrame(
    {
        "period_start": pd.to_datetime(["2026-09-01", "2026-10-01"]),
        "line": ["collections", "collections"],
        "actual": [411496.01, 398000.5],
        "budget": [463200.0, 450000.0],
        "variance": [-51703.99, -51999.5],
    }
)


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("payer_id", "Payer ID"),
        ("claims_responded", "Claims answered"),
        ("period_start", "Period"),
        ("latest_data_date", "Newest data"),
        ("some_new_count", "Some new count"),
    ],
)
def test_headers_are_words(raw, shown):
    assert header(raw) == shown


def test_a_kpi_column_is_headed_by_its_catalog_label(monkeypatch):
    from dashboards.data import query
    from dashboards.data.catalog import Catalog

    catalog = Catalog.from_rows(
        [{"kpi": "no_show_rate", "label": "No-show rate", "unit": "share",
          "direction": "lower_is_better"}]
    )  # fmt: skip
    monkeypatch.setattr(query, "catalog", lambda: catalog)
    assert header("no_show_rate") == "No-show rate"
    assert header("no_show_count") == "No show count"  # not a KPI: its words


def test_every_column_gets_a_header_and_every_number_a_format():
    for frame in (FIRST_RESPONSES, BUDGET):
        config = column_config(frame)
        assert set(config) == set(frame.columns)
        for column, settings in config.items():
            assert "_" not in settings["label"], column
            if pd.api.types.is_numeric_dtype(frame[column]):
                assert settings["type_config"]["format"], column
    money = column_config(BUDGET)
    assert {money[c]["type_config"]["format"] for c in ("actual", "budget", "variance")} == {
        "dollar"
    }
    assert column_config(FIRST_RESPONSES)["claims_denied"]["type_config"]["format"] == "localized"
    assert column_config(BUDGET)["period_start"]["type_config"]["type"] == "datetime"


def test_units_from_names_and_overrides():
    assert column_unit("gross_charges") == "money"
    assert column_unit("initial_denial_rate") == "share"
    assert column_unit("charge_lag_days") == "days"
    assert column_unit("claims_denied") is None
    assert number_format("share") == "percent"
    frame = pd.DataFrame({"value": [0.061, 0.072]})
    assert column_config(frame, {"value": "share"})["value"]["type_config"]["format"] == "percent"


def test_money_is_whole_on_cards_and_cents_only_per_visit():
    assert fmt(0, "money") == "$0"
    assert fmt(145.4, "money") == "$145"
    assert fmt(9500.2, "money") == "$9,500"
    assert fmt(24.5497, "money per visit") == "$24.55"


def test_xlsx_download_has_the_same_headers_and_number_formats():
    book = zipfile.ZipFile(io.BytesIO(to_xlsx(BUDGET, "budget")))
    strings = book.read("xl/sharedStrings.xml").decode()
    styles = book.read("xl/styles.xml").decode()
    for shown in ("Period", "Budget line", "Actual", "Budget", "Variance"):
        assert f">{shown}<" in strings
    assert "actual" not in re.findall(r"<t[^>]*>([^<]*)</t>", strings)
    assert "&quot;$&quot;#,##0.00" in styles


def test_value_axes_stay_numeric_when_a_column_holds_nulls():
    values = pd.Series([0.061, None, 0.12], dtype=object)
    assert numbers(values).dtype == float
    rows = pd.DataFrame({"scope_id": ["L01", "L02", "L03"], "value": values})
    drill = bars(rows, "scope_id", "value", "No-show rate by location", "share", horizontal=True)
    assert drill.layout.xaxis.type == "linear"
    assert drill.layout.xaxis.tickformat == ".1~%"
    box = peers(rows.dropna(), "L01", "No-show rate", "share")
    assert box.layout.xaxis.type == "linear"
    assert list(box.data[0].x) == [0.061, 0.12]
    trend = over_time(
        pd.DataFrame(
            {"period_start": pd.to_datetime(["2026-10-05", "2026-10-12"]), "value": values[:2]}
        ),
        "No-show rate",
        "share",
    )
    assert trend.layout.yaxis.type == "linear"


def test_long_category_labels_wrap_onto_two_lines_at_most():
    text = "CO-45 Charge exceeds fee schedule/maximum allowable or contracted/legislated fee"
    wrapped = wrap_label(text)
    assert wrapped.count("<br>") == 1
    assert all(len(line) <= 28 for line in wrapped.split("<br>"))


def test_counts_are_never_read_as_months_and_months_get_month_ticks():
    counts = pd.DataFrame({"reason": ["16 Lacks information", "97 Bundled"], "denials": [32, 27]})
    fig = bars(counts, "reason", "denials", "Denials by CARC reason (count)", None, horizontal=True)
    assert fig.layout.xaxis.dtick is None and fig.layout.xaxis.tickformat is None
    months = pd.DataFrame(
        {"period_start": pd.date_range("2026-01-01", periods=12, freq="MS"), "value": range(12)}
    )
    trend = over_time(months, "Visits by month", "visits")
    assert trend.layout.xaxis.tickformat == "%b %Y"
    assert trend.layout.xaxis.nticks == 6  # twelve month names do not fit a half-width chart


def test_every_data_quality_table_converts_to_arrow_as_shown(dashboard_home):
    """Streamlit hands a table to Arrow; a column mixing "–" text with dates or numbers
    failed there and logged an ArrowTypeError per table (freshness, wait violations)."""
    import duckdb
    import pyarrow as pa

    from dashboards.app.components import _dates_without_midnight
    from dashboards.data.query import DQ_TABLES

    with duckdb.connect(str(dashboard_home.serving), read_only=True) as con:
        for name in sorted(DQ_TABLES):
            frame = con.sql(f"select * from marts.{name}").df()
            shown = _dates_without_midnight(frame)
            assert pa.Table.from_pandas(shown).num_rows == len(frame), name
            column_config(shown)  # every column gets a header and a format
