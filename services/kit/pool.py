"""The kit's psycopg connections: each runs SQLAlchemy statements (kit.statements), kept in a
bounded pool of its own.

SQLAlchemy's async engine ran each statement, BEGIN, COMMIT and pool checkout through a
greenlet of its own; that doubled the client's CPU for a unit of work (measured in the commit
that replaced it), so the kit sends the compiled SQL on psycopg itself.
"""
import asyncio
import contextlib
import itertools
from typing import Any, AsyncIterator

import psycopg
import sqlalchemy as sa
from psycopg.rows import namedtuple_row

from .statements import Prepared, Rows, Compiled, as_sqlalchemy_error


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
        compiled = Compiled(statement, self._dialect, list(params) if params else None, expand_lists=True)
        return compiled.string, compiled.values(params)

    async def _run(self, method, sql: str, values) -> None:
        try:
            await method(sql, values)
        except psycopg.Error as error:
            raise as_sqlalchemy_error(error, sql, values, self._dialect) from error


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
        self._out = 0

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
            self._out += 1
            return self._idle.pop()
        try:
            connection = Connection(await psycopg.AsyncConnection.connect(autocommit=True, **self._connect_args),
                                    self._dialect)
            self._out += 1
            return connection
        except BaseException as error:
            self._free.release()
            if isinstance(error, psycopg.Error):
                raise as_sqlalchemy_error(error, None, None, self._dialect) from error
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
            self._out -= 1
            self._free.release()

    def usage(self) -> list[tuple[list[str], int]]:
        """The connections in use, idle, and the most there may be (for kit.metrics)."""
        return [(["in_use"], self._out), (["idle"], len(self._idle)), (["size"], self._size)]

    async def close(self) -> None:
        """Closes the idle connections now, and the others as they come back."""
        self._closed = True
        await self._close_idle()

    async def _close_idle(self) -> None:
        idle, self._idle = self._idle, []
        for connection in idle:
            await connection.driver.close()
