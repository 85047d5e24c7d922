"""The digest lists new refused files before rejected rows, each with its reason."""

from __future__ import annotations

from datetime import date, datetime

import polars as pl

from dashboards.data.catalog import Catalog, Names
from dashboards.data.serving import Serving, StatusTable
from dashboards.reports.digest import _new_problems


def test_digest_lists_refused_files_first_with_their_reason():
    deliveries = pl.DataFrame(
        {
            "delivery_id": ["000001", "000002", "000003"],
            "source": ["billing", "scheduling", "billing"],
            "entity": ["charges", None, "claims"],
            "status": ["loaded", "failed", "failed"],
            "rows_received": [10, 0, 0],
            "rows_rejected": [2, 0, 0],
            "error": [None, "appointments.csv: is a folder, not a file", None],
        }
    )
    rejected = pl.DataFrame(
        {"delivery_id": ["000001"], "entity": ["charges"], "column_name": ["units"], "rows": [2]}
    )
    serving = Serving(
        kpis=pl.DataFrame(),
        statuses=StatusTable({}),
        catalog=Catalog({}),
        names=Names(),
        forecast=pl.DataFrame(),
        forecast_months=pl.DataFrame(),
        as_of=date(2026, 1, 1),
        published_at=datetime(2026, 1, 1),
        deliveries=deliveries,
        rejected_by_column=rejected,
        dq_counts={},
    )
    assert _new_problems(serving, "") == [
        "scheduling/unknown entity (delivery 000002): refused: appointments.csv: is a folder, "
        "not a file",
        "billing/claims (delivery 000003): refused",
        "billing/charges (delivery 000001): 2 of 10 rows rejected (units 2)",
    ]
