"""The pandas peer is a fair peer only if it computes the product's numbers: on the sample
(its corrections delivery included, so the peer's validation and newest-version rules
are exercised too), a handful of KPIs agree with the published kpi_values, row for row.

It reads the session's built sample (tests/conftest.py), so it is as slow as that build;
marked e2e until the `slow` marker exists."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from bench.pandas_peer import compute
from pipelines.cli.main import DEFAULT_INBOXES

CHECKED = ["completed_visits", "no_show_rate", "gross_charges", "payments", "labor_cost"]


@pytest.mark.e2e
def test_peer_figures_equal_kpi_values_on_the_sample(sample_home) -> None:
    with duckdb.connect(str(sample_home.serving), read_only=True) as con:
        product = con.execute(
            "select period_grain, period_start, scope, scope_id, kpi, value "
            "from marts.kpi_values where period_grain in ('week', 'month') "
            "and kpi in (select unnest(?))",
            [CHECKED],
        ).df()
    peer = compute(DEFAULT_INBOXES)
    peer = peer[peer["kpi"].isin(CHECKED)]
    key = ["period_grain", "period_start", "scope", "scope_id", "kpi"]
    product["period_start"] = pd.to_datetime(product["period_start"]).dt.date
    both = product.merge(peer, on=key, how="outer", suffixes=("_product", "_peer"), indicator=True)
    only = both[both["_merge"] != "both"]
    assert only.empty, only.head(20).to_string()
    assert len(both) > 1000  # every checked KPI, both grains, every scope
    assert set(both["scope"]) == {"practice", "location", "provider"}
    differ = both[
        ~pd.Series(
            [
                (a != a and b != b) or abs(a - b) <= 1e-9 * max(1.0, abs(a))
                for a, b in zip(both["value_product"], both["value_peer"], strict=True)
            ],
            index=both.index,
        )
    ]
    assert differ.empty, differ.head(20).to_string()
