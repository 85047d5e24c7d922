"""How the engine choice reaches dbt and the publish, without starting Spark."""

import duckdb
import pytest

from pipelines.core.config import Config
from pipelines.core.engine import Engine, spark_table_dir
from pipelines.core.home import Home
from pipelines.model.build import dbt_build_args, dbt_env
from pipelines.publish.serving import publish


def test_build_args_name_the_target_and_leave_unit_tests_to_ci(tmp_path):
    duckdb_args = dbt_build_args(Config(), None)
    assert duckdb_args[-4:] == ["--target", "duckdb", "--exclude-resource-type", "unit_test"]
    spark_args = dbt_build_args(Config(), None, Engine.spark)
    assert spark_args[-4:] == ["--target", "spark", "--exclude-resource-type", "unit_test"]
    assert dbt_env(Home(tmp_path))["CLINICOPS_SPARK_DIR"] == str(tmp_path / "spark")


def _spark_table(home: Home, schema: str, table: str, select: str) -> None:
    """A table as Spark leaves it: a folder of Parquet part files beside a _SUCCESS marker."""
    folder = spark_table_dir(home, schema, table)
    folder.mkdir(parents=True)
    (folder / "_SUCCESS").touch()
    duckdb.sql(select).write_parquet(str(folder / "part-00000.snappy.parquet"))


def test_publish_reads_a_spark_build_into_the_serving_file(tmp_path):
    home = Home(tmp_path)
    _spark_table(home, "intermediate", "int_as_of", "select date '2026-11-20' as as_of_date")
    _spark_table(home, "marts", "dim_locations", "select 'L1' as location_id")
    _spark_table(
        home,
        "marts",
        "kpi_values",
        "select 'week' as period_grain, date '2026-11-16' as period_start, "
        "'practice' as scope, 'all' as scope_id, 'completed_visits' as kpi, "
        "7.0::double as value, 7.0::double as numerator, null::double as denominator",
    )
    result = publish(home, Engine.spark)
    assert result.tables == {"dim_locations": 1, "kpi_values": 1}
    assert result.as_of_date == "2026-11-20"
    with duckdb.connect(str(home.serving), read_only=True) as con:
        assert con.execute("select kpi, value from marts.kpi_values").fetchall() == [
            ("completed_visits", 7.0)
        ]


def test_publish_refuses_a_spark_build_that_never_ran(tmp_path):
    home = Home(tmp_path)
    with pytest.raises(FileNotFoundError, match="no Spark marts"):
        publish(home, Engine.spark)
    assert not home.serving.exists()
