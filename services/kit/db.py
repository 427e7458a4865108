"""PostgreSQL through psycopg 3, with statements built and compiled by SQLAlchemy 2; one unit
of work per use case.

A unit of work is one transaction: the state change and the events it announces are
written together (the events into the outbox table), or neither is. Once it commits, its
events are handed to the relay (kit.bus) to be sent at once.

SQLAlchemy builds the statements and compiles them for psycopg; the kit runs them on a pooled
psycopg connection of its own. SQLAlchemy's async engine ran each statement, BEGIN, COMMIT and
pool checkout through a greenlet of its own; measured, that doubled the client's CPU for a
seven-statement unit of work (0.84 ms against 0.47 ms), and a one-statement one cost 0.23 ms
against 0.11 ms. Statements a service runs on every request are built once as `Prepared`
and compiled once; queries assembled per call are compiled for the call. Errors are
SQLAlchemy's (`IntegrityError`, `OperationalError`), as callers expect.
"""
import asyncio
import contextlib
import itertools
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, AsyncIterator, Iterator

import psycopg
import sqlalchemy as sa
from google.protobuf import message as proto_message
from google.protobuf import timestamp_pb2
from psycopg.rows import namedtuple_row
from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg

from autosalon.common.v1 import common_pb2

from . import logs


def event_tables(metadata: sa.MetaData) -> tuple[sa.Table, sa.Table]:
    """The outbox and the consumed-events ledger, added to a service's own metadata."""
    outbox = sa.Table(
        "outbox",
        metadata,
        sa.Column("seq", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("event_id", sa.Uuid, nullable=False, unique=True),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("envelope", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True)),
        sa.Index("outbox_unpublished", "seq", postgresql_where=sa.text("published_at IS NULL")),
    )
    consumed = sa.Table(
        "consumed_events",
        metadata,
        sa.Column("consumer", sa.Text, primary_key=True),
        sa.Column("event_id", sa.Uuid, primary_key=True),
        sa.Column("consumed_at", sa.DateTime(timezone=True), nullable=False),
    )
    return outbox, consumed


class Prepared:
    """A statement built once, compiled once per set of parameter names.

    Its SQL stays the same from call to call, so psycopg prepares it on the server after a
    few runs on a connection; for that, it cannot expand lists (compare with `= ANY(:list)`).
    """

    def __init__(self, statement: sa.Executable):
        self.statement = statement
        self._compiled: dict[frozenset[str], _Compiled] = {}

    def sql_and_values(self, dialect: sa.Dialect, params: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        names = frozenset(params)
        compiled = self._compiled.get(names)
        if compiled is None:
            compiled = self._compiled[names] = _Compiled(self.statement, dialect, list(params), expand_lists=False)
        return compiled.string, compiled.values(params)


class _Compiled:
    """A statement compiled by SQLAlchemy for psycopg, with the bind processors its parameter
    types need (JSONB's, for one); psycopg returns every column type the services use as
    SQLAlchemy would."""

    def __init__(self, statement, dialect: sa.Dialect, names: list[str] | None, expand_lists: bool):
        self._compiled = statement.compile(
            dialect=dialect, column_keys=names, compile_kwargs={"render_postcompile": expand_lists})
        self.string = self._compiled.string
        if "POSTCOMPILE" in self.string:
            raise ValueError("a prepared statement cannot expand lists; compare with = ANY(:list)")
        self._processors = {}
        for bind, name in self._compiled.bind_names.items():
            processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if processor is not None:
                self._processors[self._compiled.escaped_bind_names.get(name, name)] = processor

    def values(self, params: dict[str, Any] | None) -> dict[str, Any]:
        values = self._compiled.construct_params(params)
        for name, processor in self._processors.items():
            values[name] = processor(values[name])
        return values


# A row as the kit returns it: psycopg's named tuple (fields by name or position, `_asdict()`).
Row = tuple


class Rows:
    """What a statement returned: the part of SQLAlchemy's Result the services use. Each row
    is a named tuple (fields by name or position, `_asdict()`)."""

    def __init__(self, rows: list, rowcount: int):
        self._rows = rows
        self.rowcount = rowcount

    def __iter__(self) -> Iterator:
        return iter(self._rows)

    def all(self) -> list:
        return self._rows

    def first(self):
        return self._rows[0] if self._rows else None

    def one(self):
        if not self._rows:
            raise sa.exc.NoResultFound("expected one row, found none")
        if len(self._rows) > 1:
            raise sa.exc.MultipleResultsFound(f"expected one row, found {len(self._rows)}")
        return self._rows[0]

    def scalar(self):
        return self._rows[0][0] if self._rows else None

    def scalar_one(self):
        return self.one()[0]

    def scalars(self) -> "Rows":
        """The first column of each row."""
        return Rows([row[0] for row in self._rows], self.rowcount)


def _as_sqlalchemy_error(error: psycopg.Error, sql: str | None, values, dialect: sa.Dialect) -> sa.exc.DBAPIError:
    """The exception SQLAlchemy would have raised: callers catch IntegrityError, and
    OperationalError means the database is away."""
    return sa.exc.DBAPIError.instance(sql, values, error, psycopg.Error, dialect=dialect)


class Connection:
    """A unit of work's connection: runs SQLAlchemy statements on psycopg.

    A `Prepared` statement is compiled once; any other is compiled for the call (queries
    assembled per call, with their filters and pages)."""

    def __init__(self, driver: psycopg.AsyncConnection, dialect: sa.Dialect):
        self.driver = driver
        self._dialect = dialect
        self._cursor = driver.cursor(row_factory=namedtuple_row)

    async def execute(self, statement, params: dict[str, Any] | list[dict[str, Any]] | None = None) -> Rows:
        """Runs `statement` with `params`, or once for each of a list of them (the runs then
        go to the server together, and return no rows)."""
        if isinstance(params, list):
            compiled = [self._sql_and_values(statement, each) for each in params]
            sql, values = compiled[0][0], [each_values for _, each_values in compiled]
            await self._run(self._cursor.executemany, sql, values)
            return Rows([], self._cursor.rowcount)
        sql, values = self._sql_and_values(statement, params)
        await self._run(self._cursor.execute, sql, values)
        cursor = self._cursor
        # rownumber is None unless the statement returned rows (cheaper to ask than description).
        return Rows(await cursor.fetchall() if cursor.rownumber is not None else [], cursor.rowcount)

    async def scalar(self, statement, params: dict[str, Any] | None = None):
        return (await self.execute(statement, params)).scalar()

    @contextlib.asynccontextmanager
    async def savepoint(self) -> AsyncIterator[None]:
        """A part of the transaction that rolls back on its own when it raises, leaving the
        rest usable (an expected IntegrityError, say)."""
        name = f"part_{next(_savepoints)}"
        await self.command(f"SAVEPOINT {name}")
        try:
            yield
        except BaseException:
            await self.command(f"ROLLBACK TO SAVEPOINT {name}")
            raise
        await self.command(f"RELEASE SAVEPOINT {name}")

    async def command(self, sql: str) -> None:
        """A statement without parameters or rows: BEGIN, COMMIT, SAVEPOINT and the like."""
        await self._run(self._cursor.execute, sql, None)

    def _sql_and_values(self, statement, params: dict[str, Any] | None) -> tuple[str, dict[str, Any]]:
        if isinstance(statement, Prepared):
            return statement.sql_and_values(self._dialect, params or {})
        compiled = _Compiled(statement, self._dialect, list(params) if params else None, expand_lists=True)
        return compiled.string, compiled.values(params)

    async def _run(self, method, sql: str, values) -> None:
        try:
            await method(sql, values)
        except psycopg.Error as error:
            raise _as_sqlalchemy_error(error, sql, values, self._dialect) from error


_savepoints = itertools.count()


class Pool:
    """Open connections kept for reuse (each with its cursor), at most `size` at once, all in
    autocommit (a unit of work that writes begins its own transaction).

    A connection is opened when none is idle, and PostgreSQL being away fails the request at
    once instead of queueing it; only when all `size` are out does a request wait for one, at
    most `wait_seconds`. A connection comes back only if it is healthy and outside any
    transaction (a cancelled unit of work may leave one mid-statement); one found lost
    discards the idle ones too, as they most likely went with it (PostgreSQL restarted).
    """

    def __init__(self, url: str, dialect: sa.Dialect, size: int, wait_seconds: float = 30):
        _, self._connect_args = dialect.create_connect_args(sa.engine.make_url(url))
        self._dialect = dialect
        self._size = size
        self._wait_seconds = wait_seconds
        self._free = asyncio.Semaphore(size)
        self._idle: list[Connection] = []
        self._closed = False

    async def acquire(self) -> Connection:
        if self._free.locked():
            try:
                await asyncio.wait_for(self._free.acquire(), self._wait_seconds)
            except TimeoutError:
                raise sa.exc.TimeoutError(
                    f"all {self._size} database connections stayed busy for {self._wait_seconds} s") from None
        else:
            await self._free.acquire()
        if self._idle:
            return self._idle.pop()
        try:
            return Connection(await psycopg.AsyncConnection.connect(autocommit=True, **self._connect_args),
                              self._dialect)
        except BaseException as error:
            self._free.release()
            if isinstance(error, psycopg.Error):
                raise _as_sqlalchemy_error(error, None, None, self._dialect) from error
            raise

    async def release(self, connection: Connection) -> None:
        driver = connection.driver
        try:
            if driver.broken or driver.closed:
                await self._close_idle()
                await driver.close()
            elif self._closed or driver.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
                await driver.close()
            else:
                self._idle.append(connection)
        finally:
            self._free.release()

    async def close(self) -> None:
        """Closes the idle connections now, and the others as they come back."""
        self._closed = True
        await self._close_idle()

    async def _close_idle(self) -> None:
        idle, self._idle = self._idle, []
        for connection in idle:
            await connection.driver.close()


# The columns of an outbox row as UnitOfWork.outbox_row gives it, for a service's own
# statement that writes the row.
OUTBOX_COLUMNS = ("event_id", "subject", "envelope", "created_at")


@dataclass(frozen=True)
class OutboxEvent:
    """An outbox row, as the relay sends it."""
    seq: int
    event_id: uuid.UUID
    subject: str
    envelope: bytes


class Database:
    def __init__(self, url: str, service: str, outbox: sa.Table, pool_size: int = 30):
        # SQLAlchemy builds and compiles the statements; psycopg runs them.
        self.dialect = PGDialect_psycopg()
        # Connections are kept rather than opened per burst: a new one costs a backend fork and a
        # SCRAM handshake. Nine processes at most 30 each stay under PostgreSQL's 400.
        self.pool = Pool(url, self.dialect, size=pool_size)
        self.service = service
        self.outbox = outbox
        # Built once and given its values per call: building a statement costs more than
        # sending it (about 0.15 ms of CPU per statement).
        self.record_event = Prepared(outbox.insert().returning(outbox.c.seq))
        # The events of committed units of work, in commit order, for the relay to send;
        # set, the signal wakes it.
        self.committed_events: list[OutboxEvent] = []
        self.outbox_signal = asyncio.Event()

    def unit_of_work(self) -> "UnitOfWork":
        return UnitOfWork(self)

    def reading(self) -> "UnitOfWork":
        """A unit of work that only reads, outside a transaction: each statement sees its own
        snapshot, and the BEGIN and COMMIT round trips (a third of a short read's cost) are
        spared. It cannot emit events."""
        return UnitOfWork(self, read_only=True)

    async def close(self) -> None:
        await self.pool.close()


def now() -> datetime:
    return datetime.now(timezone.utc)


# PostgreSQL down or unreachable, a connection lost, every pooled connection busy past the
# pool's timeout, a deadlock or a serialization failure: over once it answers again.
DATABASE_TROUBLE = (sa.exc.OperationalError, sa.exc.InterfaceError, sa.exc.TimeoutError)


def database_trouble(error: BaseException) -> str | None:
    """The driver's name for the trouble when `error` is PostgreSQL being away, else None."""
    if not isinstance(error, DATABASE_TROUBLE):
        return None
    return type(getattr(error, "orig", None) or error).__name__


def report_failure(logger: logging.Logger, what: str, error: Exception) -> None:
    """A failed request, pass of background work or event: one line when the database is away
    (over once it answers; the caller or the next pass tries again), the traceback for anything
    else."""
    trouble = database_trouble(error)
    if trouble:
        logger.warning("%s: the database did not answer (%s)", what, trouble)
    else:
        logger.error("%s", what, exc_info=error)


class UnitOfWork:
    def __init__(self, database: Database, read_only: bool = False):
        self._database = database
        self._read_only = read_only
        self.connection: Connection | None = None
        self._events: list[OutboxEvent] = []

    async def __aenter__(self) -> "UnitOfWork":
        pool = self._database.pool
        self.connection = await pool.acquire()
        if not self._read_only:
            try:
                await self.connection.command("BEGIN")
            except BaseException:
                await pool.release(self.connection)
                raise
        return self

    async def __aexit__(self, exc_type, exc, tb) -> None:
        try:
            if self._read_only:
                return
            if exc_type is None:
                await self.connection.command("COMMIT")
                if self._events:
                    self._database.committed_events.extend(self._events)
                    self._database.outbox_signal.set()
            elif not self.connection.driver.broken:
                # What went wrong is the error to report: a rollback that fails too (the
                # connection lost) leaves the connection out of the pool, and no more.
                with contextlib.suppress(sa.exc.DBAPIError):
                    await self.connection.command("ROLLBACK")
        finally:
            await self._database.pool.release(self.connection)

    async def emit(self, entity_event: str, subject: str, data: proto_message.Message) -> None:
        """Records `autosalon.<service>.<entity_event>` about `subject` in the outbox."""
        row = self.outbox_row(entity_event, subject, data)
        self.written(row, (await self.connection.execute(self._database.record_event, row)).scalar_one())

    def outbox_row(self, entity_event: str, subject: str, data: proto_message.Message) -> dict[str, Any]:
        """The outbox row announcing `autosalon.<service>.<entity_event>` about `subject`, for a
        statement of the service's own that writes it together with the change it announces
        (a round trip fewer than `emit`); hand the row and the seq it got to `written`."""
        if self._read_only:
            raise RuntimeError("a reading unit of work cannot emit events")
        event_id = uuid.uuid4()
        event_type = f"autosalon.{self._database.service}.{entity_event}"
        happened = now()
        time_pb = timestamp_pb2.Timestamp()
        time_pb.FromDatetime(happened)
        envelope = common_pb2.EventEnvelope(
            id=str(event_id),
            type=event_type,
            source=self._database.service,
            time=time_pb,
            subject=subject,
            trace_id=logs.trace_id_var.get(),
        )
        envelope.data.Pack(data)
        return {"event_id": event_id, "subject": event_type, "envelope": envelope.SerializeToString(),
                "created_at": happened}

    def written(self, row: dict[str, Any], seq: int) -> None:
        """An outbox row this unit of work wrote, numbered `seq`: the relay sends it once the
        unit of work commits (a row never handed here waits for the relay's sweep instead)."""
        self._events.append(OutboxEvent(seq, row["event_id"], row["subject"], row["envelope"]))


def create_event_tables(op) -> None:
    """For a service's first migration: the outbox and consumed-events tables as of v1."""
    metadata = sa.MetaData()
    for table in event_tables(metadata):
        table.create(op.get_bind())
