"""A service's database and its units of work.

A unit of work is one transaction: the state change and the events it announces are written
together (the events into the outbox table, kit.outbox), or neither is. Once it commits, its
events are handed to the relay (kit.relay) to be sent at once. A reading unit of work runs
its statements outside a transaction. Either hands out the service's repository (its
store.py), built on the unit of work's connection.
"""
import asyncio
import contextlib
from datetime import datetime, timezone
from typing import Any, Callable, Generic, TypeVar

import sqlalchemy as sa
from google.protobuf import message as proto_message
from sqlalchemy.dialects.postgresql.psycopg import PGDialect_psycopg

from .outbox import OutboxEvent, outbox_row
from .pool import Connection, Pool
from .statements import Prepared

# The service's repository: its queries, over one unit of work's connection.
R = TypeVar("R")


def now() -> datetime:
    return datetime.now(timezone.utc)


class Database(Generic[R]):
    def __init__(self, url: str, service: str, outbox: sa.Table,
                 repository: Callable[[Connection], R] | None = None, pool_size: int = 30):
        # SQLAlchemy builds and compiles the statements; psycopg runs them.
        self.dialect = PGDialect_psycopg()
        # Connections are kept rather than opened per burst: a new one costs a backend fork and a
        # SCRAM handshake. Nine processes at most 30 each stay under PostgreSQL's 400.
        self.pool = Pool(url, self.dialect, size=pool_size)
        self.service = service
        self.outbox = outbox
        self.repository = repository
        # Built once and given its values per call: building a statement costs more than
        # sending it (about 0.15 ms of CPU per statement).
        self.record_event = Prepared(outbox.insert().returning(outbox.c.seq))
        # The events of committed units of work, in commit order, for the relay to send;
        # set, the signal wakes it.
        self.committed_events: list[OutboxEvent] = []
        self.outbox_signal = asyncio.Event()

    def unit_of_work(self) -> "UnitOfWork[R]":
        return UnitOfWork(self)

    def reading(self) -> "UnitOfWork[R]":
        """A unit of work that only reads, outside a transaction: each statement sees its own
        snapshot, and the BEGIN and COMMIT round trips (a third of a short read's cost) are
        spared. It cannot emit events."""
        return UnitOfWork(self, read_only=True)

    async def close(self) -> None:
        await self.pool.close()


class UnitOfWork(Generic[R]):
    def __init__(self, database: Database[R], read_only: bool = False):
        self._database = database
        self._read_only = read_only
        self.connection: Connection | None = None
        self._repository: R | None = None
        self._events: list[OutboxEvent] = []

    @property
    def repository(self) -> R:
        """The service's repository on this unit of work's connection."""
        if self._repository is None:
            self._repository = self._database.repository(self.connection)
        return self._repository

    async def __aenter__(self) -> "UnitOfWork[R]":
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

    def savepoint(self):
        """A part of the transaction that rolls back on its own when it raises (kit.pool)."""
        return self.connection.savepoint()

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
        return outbox_row(self._database.service, entity_event, subject, data, now())

    def written(self, row: dict[str, Any], seq: int) -> None:
        """An outbox row this unit of work wrote, numbered `seq`: the relay sends it once the
        unit of work commits (a row never handed here waits for the relay's sweep instead)."""
        self._events.append(OutboxEvent(seq, row["event_id"], row["subject"], row["envelope"]))
