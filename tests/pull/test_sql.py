"""Read-only SQL pulls against a real PostgreSQL cluster on 127.0.0.1 (once per module)."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest
import sqlalchemy as sa
from pydantic import ValidationError

from pipelines.core.home import Home
from pipelines.pull import check, pull_source
from pipelines.pull.base import PullContext
from pipelines.pull.ledger import PullLedger
from pipelines.pull.sql import connection
from tests.pull.conftest import (
    config_for,
    inbox_files,
    ledger_files,
    pull_in_process_killed_at,
    write_config,
)
from tests.pull.servers import start_postgres, stop_postgres

READER_PASSWORD = "reader-pw"
# A trailing comment, as people write them: the wrapped query must still close.
QUERY = (
    "SELECT payer_id, payer_name, financial_class, updated_at FROM payers_export "
    "-- the vendor's export table"
)


@pytest.fixture(scope="module")
def pg():
    server = start_postgres()
    admin = sa.create_engine(server.admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql("CREATE DATABASE practice")
        conn.exec_driver_sql(f"CREATE ROLE reader LOGIN PASSWORD '{READER_PASSWORD}'")
        # Write rights on purpose: only the read-only session keeps it from writing.
        conn.exec_driver_sql("CREATE ROLE writer LOGIN PASSWORD 'writer-pw'")
    admin.dispose()
    yield server
    stop_postgres(server)


@pytest.fixture
def db(pg, request):
    """A fresh table for each test, readable by `reader`, writable by `writer`."""
    url = pg.admin_url.rsplit("/", 1)[0] + "/practice"
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.exec_driver_sql("DROP TABLE IF EXISTS payers_export")
        conn.exec_driver_sql(
            "CREATE TABLE payers_export (payer_id text primary key, payer_name text, "
            "financial_class text, updated_at timestamp(6))"
        )
        conn.exec_driver_sql("GRANT SELECT ON payers_export TO reader")
        conn.exec_driver_sql("GRANT ALL ON payers_export TO writer")
    yield engine
    engine.dispose()


def insert(engine, *rows) -> None:
    with engine.begin() as conn:
        for payer_id, stamp in rows:
            conn.execute(
                sa.text("INSERT INTO payers_export VALUES (:i, :n, 'commercial', :t)"),
                {"i": payer_id, "n": f"Payer {payer_id}", "t": stamp},
            )


def source(pg, user="reader", watermark="updated_at", **extra) -> dict:
    entity = {"query": QUERY, **({"watermark": watermark} if watermark else {})}
    return {
        "pm": {
            "kind": "sql",
            "url": pg.url(user),
            "password": "file:pm_db",
            "entities": {"payers": entity},
            "retries": 2,
            **extra,
        }
    }


@pytest.fixture
def secrets(home: Home) -> Home:
    (home.secrets / "pm_db").write_text(READER_PASSWORD)
    return home


def rows_of(path) -> list[str]:
    return pq.read_table(path).column("payer_id").to_pylist()


def test_first_pull_nothing_new_then_new_rows_by_watermark(secrets, pg, db):
    home = secrets
    insert(db, ("P1", "2026-01-01 08:00:00.000001"), ("P2", "2026-01-02 08:00:00"))
    config = config_for(source(pg))
    first = pull_source(home, config, "pm")
    assert first.ok, first.error
    (path,) = first.files
    assert path.parent.name == "billing" and path.suffix == ".parquet"
    assert rows_of(path) == ["P1", "P2"]
    table = pq.read_table(path)
    assert table.column("updated_at").to_pylist()[0] == "2026-01-01 08:00:00.000001"

    again = pull_source(home, config, "pm")
    assert again.ok and again.files == [] and "payers: no new rows" in again.notes

    insert(db, ("P3", "2026-01-03 08:00:00"))
    third = pull_source(home, config, "pm")
    assert [rows_of(p) for p in third.files] == [["P3"]]


def test_without_a_watermark_an_unchanged_result_is_not_delivered_again(secrets, pg, db):
    home = secrets
    insert(db, ("P1", "2026-01-01 08:00:00"))
    config = config_for(source(pg, watermark=None))
    assert len(pull_source(home, config, "pm").files) == 1
    assert pull_source(home, config, "pm").files == []
    insert(db, ("P2", "2026-01-02 08:00:00"))
    (whole,) = pull_source(home, config, "pm").files
    assert rows_of(whole) == ["P1", "P2"]


def test_rows_still_being_written_wait_until_committed(secrets, pg, db):
    home = secrets
    insert(db, ("P1", "2026-01-01 08:00:00"))
    transactional = sa.create_engine(db.url)
    writer = transactional.connect()
    open_transaction = writer.begin()
    writer.execute(sa.text("INSERT INTO payers_export VALUES ('P2', 'x', 'other', now())"))
    try:
        during = pull_source(home, config_for(source(pg)), "pm")
    finally:
        open_transaction.commit()
        writer.close()
        transactional.dispose()
    assert [rows_of(p) for p in during.files] == [["P1"]]
    after = pull_source(home, config_for(source(pg)), "pm")
    assert [rows_of(p) for p in after.files] == [["P2"]]


def test_the_session_is_read_only_even_for_a_user_who_may_write(home, pg, db):
    (home.secrets / "pm_db").write_text("writer-pw")
    src = config_for(source(pg, user="writer")).pull.sources["pm"]
    ctx = PullContext("pm", home, home.root / "inbox", PullLedger(home), print)
    with (
        connection(ctx, src) as conn,
        pytest.raises(sa.exc.InternalError, match="read-only"),
        conn.begin(),
    ):
        conn.exec_driver_sql("INSERT INTO payers_export VALUES ('X', 'x', 'other', now())")


def test_a_statement_other_than_select_is_refused_when_the_config_is_read(pg):
    for statement in (
        "DELETE FROM payers_export",
        "SELECT 1; DROP TABLE payers_export",
        "WITH gone AS (DELETE FROM payers_export RETURNING *) SELECT * FROM gone",
        "SELECT * INTO copy FROM payers_export",
    ):
        bad = source(pg)
        bad["pm"]["entities"]["payers"]["query"] = statement
        with pytest.raises(ValidationError, match="SELECT|statement"):
            config_for(bad)


def test_a_dropped_connection_is_retried_and_no_half_file_lands(secrets, pg, db):
    home = secrets
    insert(db, *[(f"P{n:03d}", f"2026-01-01 08:{n // 60:02d}:{n % 60:02d}") for n in range(50)])
    killed = []

    def progress(message: str) -> None:
        if "rows" in message and not killed:
            with db.connect() as conn:
                killed.append(
                    conn.exec_driver_sql(
                        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                        "WHERE usename = 'reader'"
                    ).scalar()
                )

    result = pull_source(home, config_for(source(pg, fetch_rows=5)), "pm", say=progress)
    assert result.ok, result.error
    assert killed == [1]
    assert len(inbox_files(home)) == 1
    assert rows_of(result.files[0]) == [f"P{n:03d}" for n in range(50)]


def test_wrong_credentials_say_so_and_land_nothing(home, pg, db):
    (home.secrets / "pm_db").write_text("not-the-password")
    result = pull_source(home, config_for(source(pg)), "pm")
    assert not result.ok and "auth refused" in result.error
    assert "not-the-password" not in result.error
    assert inbox_files(home) == []


def test_sources_test_names_a_query_error_and_a_missing_password(secrets, pg, db):
    home = secrets
    assert isinstance(check(home, config_for(source(pg)))["pm"], list)
    broken = source(pg)
    broken["pm"]["entities"]["payers"]["query"] = "SELECT payer_id FROM no_such_table"
    assert "query error" in check(home, config_for(broken))["pm"]
    narrow = source(pg, watermark=None)
    narrow["pm"]["entities"]["payers"]["query"] = "SELECT payer_id FROM payers_export"
    assert (
        "lacks required column(s) payer_name, financial_class"
        in (check(home, config_for(narrow))["pm"])
    )
    (home.secrets / "pm_db").unlink()
    assert "secret file:pm_db is missing" in check(home, config_for(source(pg)))["pm"]


@pytest.mark.parametrize("fault", ["pull.rows", "pull.renamed"])
def test_a_killed_pull_is_completed_once_by_the_next(secrets, pg, db, tmp_path, fault):
    home = secrets
    insert(db, ("P1", "2026-01-01 08:00:00"), ("P2", "2026-01-02 08:00:00"))
    config_file = write_config(tmp_path / "clinicops.yaml", source(pg))
    assert pull_in_process_killed_at(home, config_file, fault) == -9
    following = pull_source(home, config_for(source(pg)), "pm")
    assert following.ok, following.error
    files = inbox_files(home)
    assert len(files) == 1 and rows_of(files[0]) == ["P1", "P2"]
    assert len(ledger_files(home, "pm")) == 1
    # The watermark moved with the file, once: nothing is fetched a second time.
    assert pull_source(home, config_for(source(pg)), "pm").files == []


def test_two_pulls_of_one_source_never_run_at_once(secrets, pg, db):
    from pipelines.pull.ledger import source_lock

    home = secrets
    with source_lock(home, "pm"):
        result = pull_source(home, config_for(source(pg)), "pm")
    assert not result.ok and "another pull of this source is running" in result.error
    assert inbox_files(home) == []
