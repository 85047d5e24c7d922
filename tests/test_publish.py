"""Publishing swaps the serving file atomically and refuses an incomplete warehouse."""

import duckdb
import pytest

from pipelines.core.home import Home
from pipelines.publish.serving import publish


def _warehouse(home: Home, value: float, with_kpis: bool = True) -> None:
    home.root.mkdir(parents=True, exist_ok=True)
    home.warehouse.unlink(missing_ok=True)
    with duckdb.connect(str(home.warehouse)) as con:
        con.execute("create schema marts; create schema intermediate")
        con.execute("create table intermediate.int_as_of as select date '2026-11-20' as as_of_date")
        con.execute("create table marts.dim_locations as select 'L1' as location_id")
        if with_kpis:
            con.execute(
                "create table marts.kpi_values as select 'week' as period_grain, "
                f"date '2026-11-16' as period_start, 'practice' as scope, 'all' as scope_id, "
                f"'completed_visits' as kpi, {value}::double as value, "
                f"{value}::double as numerator, null::double as denominator"
            )


def _value(path) -> float:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute("select value from marts.kpi_values").fetchone()[0]


def test_publish_copies_marts_and_records_as_of(tmp_path):
    home = Home(tmp_path)
    _warehouse(home, 10)
    result = publish(home)
    assert result.path == home.serving
    assert result.tables == {"dim_locations": 1, "kpi_values": 1}
    assert result.as_of_date == "2026-11-20"
    with duckdb.connect(str(home.serving), read_only=True) as con:
        assert con.execute("select as_of_date::varchar from marts.publish_info").fetchone() == (
            "2026-11-20",
        )
    assert _value(home.serving) == 10


def test_open_reader_keeps_its_state_while_a_new_file_is_swapped_in(tmp_path):
    home = Home(tmp_path)
    _warehouse(home, 10)
    publish(home)
    reader = duckdb.connect(str(home.serving), read_only=True)
    _warehouse(home, 20)
    publish(home)  # must not wait for, or disturb, the open reader
    assert reader.execute("select value from marts.kpi_values").fetchone()[0] == 10
    reader.close()
    assert _value(home.serving) == 20


def test_incomplete_warehouse_is_not_published_and_old_file_survives(tmp_path):
    home = Home(tmp_path)
    _warehouse(home, 10)
    publish(home)
    _warehouse(home, 99, with_kpis=False)
    with pytest.raises(RuntimeError, match="kpi_values is missing"):
        publish(home)
    assert _value(home.serving) == 10
    # No copy left behind; the home's writer lock file (pipelines/core/home_lock.py) stays.
    left = sorted(p.name for p in tmp_path.iterdir() if p.name != ".clinicops.lock")
    assert left == ["serving.duckdb", "warehouse.duckdb"]
