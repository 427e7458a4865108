"""Statements built and compiled by SQLAlchemy 2 for psycopg 3, and the rows they return.

SQLAlchemy builds a statement and compiles it for psycopg (bind processors included); the
kit's connections (kit.pool) send the SQL. A statement run on every request is built once as
`Prepared` and compiled once per set of parameter names; a query assembled per call (filters,
pages) is compiled for the call. Errors are SQLAlchemy's (`IntegrityError`,
`OperationalError`), as callers expect.
"""
from typing import Any, Iterator

import psycopg
import sqlalchemy as sa


class Prepared:
    """A statement built once, compiled once per set of parameter names.

    Its SQL stays the same from call to call, so psycopg prepares it on the server after a
    few runs on a connection; for that, it cannot expand lists (compare with `= ANY(:list)`).
    """

    def __init__(self, statement: sa.Executable):
        self.statement = statement
        self._compiled: dict[frozenset[str], Compiled] = {}

    def sql_and_values(self, dialect: sa.Dialect, params: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        names = frozenset(params)
        compiled = self._compiled.get(names)
        if compiled is None:
            compiled = self._compiled[names] = Compiled(self.statement, dialect, list(params), expand_lists=False)
        return compiled.string, compiled.values(params)


class Compiled:
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


def as_sqlalchemy_error(error: psycopg.Error, sql: str | None, values, dialect: sa.Dialect) -> sa.exc.DBAPIError:
    """The exception SQLAlchemy would have raised: callers catch IntegrityError, and
    OperationalError means the database is away."""
    return sa.exc.DBAPIError.instance(sql, values, error, psycopg.Error, dialect=dialect)
