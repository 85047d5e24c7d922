"""Read-only queries against a practice-management database, one Parquet delivery each.

Every query was checked to be one plain SELECT when the config was read
(config.select_problem); the connection is read-only as well, so a query that slipped
through could still not write: PostgreSQL sessions start with
`default_transaction_read_only` and each transaction with `SET TRANSACTION READ ONLY`;
MySQL/MariaDB sessions are `SET SESSION TRANSACTION READ ONLY`, so every transaction
they start is a read-only one.

Values are written as text, exactly as a CSV export would carry them; landing judges
them against the contract like any other file. With a watermark column, a poll reads
only rows above the highest value fetched before; the new highest value is recorded
with the file, in the same ledger transaction (ledger.py). Without one, a result equal
to the last one fetched is not delivered again.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import sqlalchemy as sa
from sqlalchemy import exc as sa_exc
from sqlalchemy.pool import NullPool

from pipelines.core import faults
from pipelines.core.config import SqlEntity, SqlSource
from pipelines.core.contracts import BY_ENTITY
from pipelines.pull.base import NetworkError, Outcome, PullContext, PullError, stamp

_AUTH = ("password authentication failed", "access denied", "authentication failed")
_UNREACHABLE = (
    "connection refused",
    "could not connect",
    "can't connect",
    "timeout expired",
    "timed out",
    "name or service not known",
    "no route to host",
)


def engine(ctx: PullContext, src: SqlSource) -> sa.Engine:
    url = sa.make_url(src.url)
    if src.password:
        url = url.set(password=ctx.secret(src.password))
    timeout = int(src.timeout_seconds)
    if src.dialect == "postgres":
        args: dict[str, Any] = {
            "connect_timeout": timeout,
            "options": "-c default_transaction_read_only=on",
        }
    else:
        args = {"connect_timeout": timeout}
    eng = sa.create_engine(url, poolclass=NullPool, connect_args=args)

    @sa.event.listens_for(eng, "connect")
    def _read_only_session(dbapi_connection, _record) -> None:
        if src.dialect == "mysql":
            with dbapi_connection.cursor() as cursor:
                cursor.execute("SET SESSION TRANSACTION READ ONLY")

    @sa.event.listens_for(eng, "begin")
    def _read_only_transaction(conn) -> None:
        if src.dialect == "postgres":
            conn.exec_driver_sql("SET TRANSACTION READ ONLY")

    return eng


@contextmanager
def connection(ctx: PullContext, src: SqlSource) -> Iterator[sa.Connection]:
    """A read-only connection, or a PullError saying why there is none."""
    eng = engine(ctx, src)
    where = f"{ctx.name}: {eng.url.render_as_string(hide_password=True)}"
    try:
        try:
            conn = eng.connect()
        except sa_exc.DBAPIError as exc:
            raise _connect_error(where, exc) from None
        with conn:
            yield conn
    finally:
        eng.dispose()


def _first_line(exc: sa_exc.DBAPIError) -> str:
    text = str(exc.orig) if exc.orig is not None else str(exc)
    return text.strip().splitlines()[0] if text.strip() else type(exc.orig).__name__


def _connect_error(where: str, exc: sa_exc.DBAPIError) -> PullError:
    message = _first_line(exc)
    low = message.lower()
    if any(s in low for s in _AUTH):
        return PullError(f"{where}: auth refused ({message})")
    if any(s in low for s in _UNREACHABLE):
        return NetworkError(f"{where}: host unreachable ({message})")
    if "does not exist" in low or "unknown database" in low:
        return PullError(f"{where}: database missing ({message})")
    return NetworkError(f"{where}: cannot connect ({message})")


def _query_error(ctx: PullContext, entity: str, exc: sa_exc.DBAPIError) -> PullError:
    if exc.connection_invalidated or isinstance(exc, sa_exc.OperationalError):
        return NetworkError(f"{ctx.name}: {entity}: connection lost ({_first_line(exc)})")
    if isinstance(exc, sa_exc.DataError):
        # Its message may quote a value of a row: say what kind of problem it is only.
        return PullError(f"{ctx.name}: {entity}: query error: a value could not be converted")
    return PullError(f"{ctx.name}: {entity}: query error: {_first_line(exc)}")


def _statement(spec: SqlEntity, watermark: Any) -> sa.TextClause:
    query = spec.query.strip().rstrip(";")
    if spec.watermark is None:
        return sa.text(query)
    col = f"clinicops_q.{spec.watermark}"
    where = "" if watermark is None else f" WHERE {col} > :watermark"
    # Newlines around the query: a trailing `-- comment` must not swallow the `)`.
    sql = f"SELECT * FROM (\n{query}\n) clinicops_q{where} ORDER BY {col}"
    statement = sa.text(sql)
    return statement.bindparams(watermark=watermark) if watermark is not None else statement


def _text(value: Any) -> str | None:
    """A database value as an export's text: ISO dates and times, plain decimals."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("utf-8", errors="replace")
    return str(value)


def _dump(value: Any) -> str:
    """A watermark value for the ledger, with its type, so it binds back as it was."""
    for kind, cls in (("datetime", datetime), ("date", date), ("decimal", Decimal)):
        if isinstance(value, cls):
            return json.dumps({"type": kind, "value": _text(value)})
    if isinstance(value, int):
        return json.dumps({"type": "int", "value": value})
    return json.dumps({"type": "str", "value": str(value)})


def _load(text: str | None) -> Any:
    if text is None:
        return None
    data = json.loads(text)
    value = data["value"]
    return {
        "datetime": datetime.fromisoformat,
        "date": date.fromisoformat,
        "decimal": Decimal,
        "int": int,
        "str": str,
    }[data["type"]](value)


def fetch(ctx: PullContext, src: SqlSource) -> Outcome:
    outcome = Outcome()
    with connection(ctx, src) as conn:
        for entity, spec in src.entities.items():
            path = _fetch_entity(ctx, src, conn, entity, spec, outcome)
            if path is not None:
                outcome.files.append(path)
    return outcome


def _fetch_entity(ctx, src: SqlSource, conn: sa.Connection, entity, spec: SqlEntity, outcome):
    key = f"watermark:{entity}"
    previous = _load(ctx.ledger.get(ctx.name, key))
    folder = src.folder or BY_ENTITY[entity].source
    part = ctx.part(folder, f"{entity}_{stamp()}.parquet")
    rows = 0
    highest = previous
    try:
        with conn.begin():
            result = conn.execution_options(stream_results=True, yield_per=src.fetch_rows).execute(
                _statement(spec, previous)
            )
            columns = list(result.keys())
            if spec.watermark and spec.watermark not in columns:
                raise PullError(
                    f"{ctx.name}: {entity}: query error: the watermark column "
                    f"{spec.watermark!r} is not in the query's result"
                )
            schema = pa.schema([(c, pa.string()) for c in columns])
            writer = None
            try:
                for chunk in result.partitions():
                    if writer is None:
                        writer = pq.ParquetWriter(part.written_elsewhere(), schema)
                    table = pa.table(
                        {c: [_text(row[i]) for row in chunk] for i, c in enumerate(columns)},
                        schema=schema,
                    )
                    writer.write_table(table)
                    rows += len(chunk)
                    if spec.watermark:
                        highest = chunk[-1][columns.index(spec.watermark)]
                    faults.point("pull.rows")
                    ctx.say(f"{ctx.name}: {entity}: {rows:,} rows")
            finally:
                if writer is not None:
                    writer.close()
    except sa_exc.DBAPIError as exc:
        part.discard()
        raise _query_error(ctx, entity, exc) from None
    except BaseException:
        part.discard()
        raise
    if rows == 0:
        part.discard()
        outcome.notes.append(f"{entity}: no new rows")
        return None
    part.adopt()
    if spec.watermark is None and part.sha256 == ctx.ledger.last_sha256(ctx.name, entity):
        part.discard()
        outcome.notes.append(f"{entity}: unchanged since the last pull")
        return None
    pending = {key: _dump(highest)} if spec.watermark else {}
    path = ctx.commit(part, entity, pending=pending)
    ctx.say(f"{ctx.name}: fetched {rows:,} {entity} rows -> {path}")
    return path


def _read_only_flag(conn: sa.Connection, dialect: str) -> str:
    """The session's read-only setting, as the server names it."""
    # MySQL 8 and MariaDB 11.1+ call it transaction_read_only; MariaDB before, tx_read_only.
    queries = (
        ["SHOW transaction_read_only"]
        if dialect == "postgres"
        else ["SELECT @@session.transaction_read_only", "SELECT @@session.tx_read_only"]
    )
    for query in queries:
        try:
            with conn.begin():
                return str(conn.exec_driver_sql(query).scalar()).lower()
        except sa_exc.DBAPIError:
            continue
    return "unknown"


def check(ctx: PullContext, src: SqlSource) -> list[str]:
    """Connect read-only and run each query for its columns only (no rows are read)."""
    lines = []
    with connection(ctx, src) as conn:
        flag = _read_only_flag(conn, src.dialect)
        if flag not in ("on", "1", "true"):
            raise PullError(f"{ctx.name}: the session is not read-only ({flag})")
        lines.append(f"connected read-only to {conn.engine.url.render_as_string(True)}")
        for entity, spec in src.entities.items():
            query = spec.query.strip().rstrip(";")
            try:
                with conn.begin():
                    result = conn.execute(
                        sa.text(f"SELECT * FROM (\n{query}\n) clinicops_q WHERE 1=0")
                    )
                    columns = set(result.keys())
            except sa_exc.DBAPIError as exc:
                raise _query_error(ctx, entity, exc) from None
            required = [c.name for c in BY_ENTITY[entity].columns if c.required]
            missing = [c for c in required if c not in columns]
            if missing:
                raise PullError(
                    f"{ctx.name}: {entity}: query error: the result lacks required "
                    f"column(s) {', '.join(missing)}"
                )
            lines.append(f"{entity}: query runs, {len(columns)} columns")
    return lines
