"""Formats and derived expressions, one feature at a time, on small frames."""

from __future__ import annotations

import polars as pl
import pytest

from pipelines.core.contracts import Kind
from pipelines.core.mapping_config import ColumnFormat, parse_expression
from pipelines.land.expressions import Evaluator, bind
from pipelines.land.formats import date_text, number_text, sign_of
from pipelines.land.read import FileError


def _date(values, kind=Kind.TIMESTAMP, **fmt):
    text, failed = date_text(pl.col("v"), kind, ColumnFormat(**fmt))
    out = pl.DataFrame({"v": values}).select(text.alias("t"), failed.alias("f"))
    return out["t"].to_list(), out["f"].to_list()


def test_several_patterns_tried_in_order_with_12_hour_clocks():
    values, failed = _date(
        ["4/29/16 8:30 AM", "04/29/2016 12:05 PM", "4/9/2016 8:30 pm", "29.04.2016"],
        patterns=["%m/%d/%y %I:%M %p", "%m/%d/%Y %I:%M %p"],
    )
    assert values[:3] == ["2016-04-29 08:30:00", "2016-04-29 12:05:00", "2016-04-09 20:30:00"]
    assert failed == [False, False, False, True]


def test_a_two_digit_year_is_not_read_as_the_year_16():
    values, _ = _date(["4/29/16 8:30 AM"], patterns=["%m/%d/%Y %I:%M %p", "%m/%d/%y %I:%M %p"])
    assert values == ["2016-04-29 08:30:00"]


def test_date_only_pattern_gives_local_midnight_in_a_timestamp_column():
    assert _date(["04/29/2016"], patterns=["%m/%d/%Y"])[0] == ["2016-04-29 00:00:00"]
    assert _date(["2016-04-29"], date_only="midnight")[0] == ["2016-04-29 00:00:00"]
    assert _date(["2016-04-29 08:00"], date_only="midnight")[0] == ["2016-04-29 08:00"]


def test_local_drops_the_offset_so_the_day_stays_on_its_day():
    values, _ = _date(
        ["2016-04-29T00:00:00Z", "2016-04-29 23:30:00-05:00"],
        Kind.DATE,
        patterns=["%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%d %H:%M:%S%z"],
        local=True,
    )
    assert values == ["2016-04-29", "2016-04-29"]
    # Without patterns the wall clock is kept as written, offset gone.
    assert _date(["2016-04-29T00:00:00Z"], local=True)[0] == ["2016-04-29T00:00:00"]


def test_month_patterns_without_a_day():
    assert _date(["04.2016", "4/2016"], Kind.MONTH, patterns=["%m.%Y", "%m/%Y"])[0] == [
        "2016-04",
        "2016-04",
    ]


@pytest.mark.parametrize(
    ("written", "fmt", "expected"),
    [
        ("$1,234.00", {"currency": True, "thousands": ","}, "1234.00"),
        ("(25.00)", {"parentheses": True}, "-25.00"),
        ("($1,000.50)", {"parentheses": True, "currency": True, "thousands": ","}, "-1000.50"),
        ("1.234,56", {"decimal": ",", "thousands": "."}, "1234.56"),
        ("1 234,56 €", {"decimal": ",", "thousands": " ", "currency": True}, "1234.56"),
        ("-80.00", {"absolute": True}, "80.00"),
        ("(80.00)", {"parentheses": True, "absolute": True}, "80.00"),
    ],
)
def test_number_formats(written, fmt, expected):
    text, failed = number_text(pl.col("v"), ColumnFormat(**fmt))
    out = pl.DataFrame({"v": [written]}).select(text, failed.alias("f"))
    assert out.row(0) == (expected, False)


def test_a_number_that_does_not_fit_its_format_fails():
    text, failed = number_text(pl.col("v"), ColumnFormat(currency=True))
    assert pl.DataFrame({"v": ["$12,34"]}).select(failed).item() is True


def test_sign_of_an_amount():
    sign = sign_of(pl.col("v"), ColumnFormat(parentheses=True, currency=True))
    out = pl.DataFrame({"v": ["($20.00)", "$10.00", "0.00", "abc", None]}).select(sign)
    assert out.to_series().to_list() == ["negative", "positive", "zero", None, None]


def test_expression_whitelist_allows_values_and_functions_only():
    parse_expression("CASE WHEN a = 'Y' THEN coalesce(b, c) ELSE lower(trim(d)) END")
    parse_expression("date_diff('minute', try_strptime(a, '%m/%d/%Y %I:%M %p'), b::timestamp)")
    for bad in ("(select 1)", "read_parquet('x')", "now()", "current_date", "x.a"):
        with pytest.raises(ValueError):
            parse_expression(bad)


def test_expressions_refer_to_file_columns_by_their_header_name():
    sql = bind("\"No-show\" = 'Yes' and \"Appt Type\" <> 'x'", {"no-show", "appt_type"}, "where")
    assert '"no-show"' in sql and '"appt_type"' in sql
    with pytest.raises(FileError, match="refers to column 'Missing', which the file does not"):
        bind("Missing = 1", {"a"}, "the route's where")


def test_evaluator_filters_and_derives_in_one_query():
    frame = pl.DataFrame(
        {
            "_line": [2, 3, 4],
            "start": ["4/29/16 8:30 AM", "4/29/16 9:00 AM", None],
            "end": ["4/29/16 9:00 AM", "4/29/16 9:45 AM", None],
            "kind": ["OK", "BLOCK", "OK"],
        }
    )
    names = {"start", "end", "kind"}
    minutes = bind(
        "date_diff('minute', try_strptime(start, '%m/%d/%y %I:%M %p'), "
        "try_strptime(\"end\", '%m/%d/%y %I:%M %p'))",
        names,
        "expr",
    )
    out = Evaluator(bind("kind <> 'BLOCK'", names, "where"), {"m": minutes}).evaluate(frame)
    assert out["__keep"].to_list() == [True, False, True]
    assert out["m"].to_list() == ["30", "45", None]


def test_a_failing_expression_names_no_value():
    frame = pl.DataFrame({"_line": [2], "a": ["PAT-SECRET-1"]})
    evaluator = Evaluator(None, {"x": bind("strptime(a, '%Y')", {"a"}, "expr")})
    with pytest.raises(FileError) as err:
        evaluator.evaluate(frame)
    assert "PAT-SECRET-1" not in str(err.value)
    assert "try_strptime" in str(err.value)
