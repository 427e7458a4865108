"""PostgreSQL through async SQLAlchemy 2 and psycopg 3, one unit of work per use case.

A unit of work is one transaction: the state change and the events it announces are
written together (the events into the outbox table), or neither is. Once it commits, its
events are handed to the relay (kit.bus) to be sent at once.

Statements a service runs on every request are built once as `Prepared`: SQLAlchemy compiles
each once, and the unit of work runs its SQL on the psycopg connection underneath, skipping
SQLAlchemy's per-call execution machinery. Measured on a seven-statement unit of work, that
machinery doubled the client's CPU (0.84 ms against 0.47 ms). Everything else, queries built
per call included, goes through SQLAlchemy as usual, on the same connection and transaction.
"""
import asyncio
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Callable, Iterator

import psycopg
import sqlalchemy as sa
from google.protobuf import message as proto_message
from google.protobuf import timestamp_pb2
from psycopg.rows import namedtuple_row
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

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
    """A statement built once, compiled once per set of parameter names, run on the driver.

    Its parameters pass through SQLAlchemy's bind processors (JSONB, for one, needs them);
    psycopg already returns every column type the services use as SQLAlchemy would.
    """

    def __init__(self, statement: sa.Executable):
        self.statement = statement
        self._compiled: dict[frozenset[str], tuple[sa.Compiled, dict[str, Callable]]] = {}

    def sql_and_values(self, dialect: sa.Dialect, params: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        names = frozenset(params)
        found = self._compiled.get(names)
        if found is None:
            compiled = self.statement.compile(dialect=dialect, column_keys=list(params))
            if "POSTCOMPILE" in compiled.string:
                raise ValueError("a prepared statement cannot expand lists; compare with = ANY(:list)")
            processors = {}
            for name, bind in compiled.binds.items():
                processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
                if processor is not None:
                    processors[name] = processor
            found = self._compiled[names] = (compiled, processors)
        compiled, processors = found
        values = compiled.construct_params(params)
        for name, processor in processors.items():
            values[name] = processor(values[name])
        return compiled.string, values


class Rows:
    """What a prepared statement returned: the part of SQLAlchemy's Result the services use."""

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


class Connection:
    """A unit of work's connection: prepared statements run on psycopg directly, anything else
    through SQLAlchemy."""

    def __init__(self, connection: AsyncConnection):
        self.sqlalchemy = connection
        self._cursor: psycopg.AsyncCursor | None = None

    async def execute(self, statement, params: dict[str, Any] | list[dict[str, Any]] | None = None):
        """Runs `statement` with `params`, or once for each of a list of them (a prepared
        statement's runs then go to the server together, and return no rows)."""
        if not isinstance(statement, Prepared):
            return await self.sqlalchemy.execute(statement, params)
        cursor = self._cursor
        if cursor is None:
            driver = (await self.sqlalchemy.get_raw_connection()).driver_connection
            cursor = self._cursor = driver.cursor(row_factory=namedtuple_row)
        dialect = self.sqlalchemy.dialect
        try:
            if isinstance(params, list):
                compiled = [statement.sql_and_values(dialect, each) for each in params]
                sql, values = compiled[0][0], [each_values for _, each_values in compiled]
                await cursor.executemany(sql, values)
                return Rows([], cursor.rowcount)
            sql, values = statement.sql_and_values(dialect, params or {})
            await cursor.execute(sql, values)
            return Rows(await cursor.fetchall() if cursor.description is not None else [], cursor.rowcount)
        except psycopg.Error as error:
            raise await self._as_sqlalchemy_error(error, cursor, sql, values) from error

    async def scalar(self, statement, params: dict[str, Any] | None = None):
        if not isinstance(statement, Prepared):
            return await self.sqlalchemy.scalar(statement, params)
        return (await self.execute(statement, params)).scalar()

    def begin_nested(self):
        return self.sqlalchemy.begin_nested()

    async def _as_sqlalchemy_error(self, error: psycopg.Error, cursor, sql: str, values: dict) -> sa.exc.DBAPIError:
        """The exception SQLAlchemy would have raised (callers catch IntegrityError, and
        OperationalError means the database is away); a lost connection leaves the pool."""
        lost = self.sqlalchemy.dialect.is_disconnect(error, cursor.connection, cursor)
        if lost:
            await self.sqlalchemy.invalidate()
        return sa.exc.DBAPIError.instance(sql, values, error, psycopg.Error, connection_invalidated=lost,
                                          dialect=self.sqlalchemy.dialect)


@dataclass(frozen=True)
class OutboxEvent:
    """An outbox row, as the relay sends it."""
    seq: int
    event_id: uuid.UUID
    subject: str
    envelope: bytes


class Database:
    def __init__(self, url: str, service: str, outbox: sa.Table, pool_size: int = 20):
        # Connections are kept rather than opened per burst: a new one costs a backend fork and a
        # SCRAM handshake. Nine processes at most 30 each stay under PostgreSQL's 400.
        self.engine = create_async_engine(url, pool_size=pool_size, max_overflow=10)
        # Reads outside a transaction: each statement sees its own snapshot, and the BEGIN and
        # COMMIT round trips (a third of a short read's cost) are spared.
        self.autocommit = self.engine.execution_options(isolation_level="AUTOCOMMIT")
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
        """A unit of work that only reads, one statement at a time; it cannot emit events."""
        return UnitOfWork(self, read_only=True)

    async def close(self) -> None:
        await self.engine.dispose()


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
        if self._read_only:
            self.connection = Connection(await self._database.autocommit.connect())
        else:
            self.connection = Connection(await self._database.engine.connect())
            await self.connection.sqlalchemy.begin()
        return self

    async def __aexit__(self, exc_type, exc, tb) -> None:
        try:
            if self._read_only:
                return
            if exc_type is None:
                await self.connection.sqlalchemy.commit()
                if self._events:
                    self._database.committed_events.extend(self._events)
                    self._database.outbox_signal.set()
            else:
                await self.connection.sqlalchemy.rollback()
        finally:
            await self.connection.sqlalchemy.close()

    async def emit(self, entity_event: str, subject: str, data: proto_message.Message) -> None:
        """Records `autosalon.<service>.<entity_event>` about `subject` in the outbox."""
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
        serialized = envelope.SerializeToString()
        seq = (await self.connection.execute(self._database.record_event, {
            "event_id": event_id,
            "subject": event_type,
            "envelope": serialized,
            "created_at": happened,
        })).scalar_one()
        self._events.append(OutboxEvent(seq, event_id, event_type, serialized))


def create_event_tables(op) -> None:
    """For a service's first migration: the outbox and consumed-events tables as of v1."""
    metadata = sa.MetaData()
    for table in event_tables(metadata):
        table.create(op.get_bind())
