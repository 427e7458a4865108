"""Scheduled passes one instance runs at a time: the pass holds a PostgreSQL advisory lock
keyed by its job's name, and an instance finding it held skips its turn.

For a pass whose work must not be done twice at once (asking an outside party, announcing
a step) and that claims no rows of its own: two instances reading the same rows due would
both act on them.
"""
from typing import Any, Awaitable, Callable

import sqlalchemy as sa

from .db import Database
from .statements import Prepared

# The first half of every job's lock key: the two-key advisory locks are apart from the
# one-key ones a service takes itself.
_JOBS = 22
_TRY_LOCK = Prepared(sa.select(sa.func.pg_try_advisory_xact_lock(_JOBS, sa.func.hashtext(sa.bindparam("job")))))


async def alone(database: Database, job: str, task: Callable[[], Awaitable[Any]]) -> Any:
    """What `task()` returns, run while no other instance of the service runs `job`; None,
    without running it, while one does. The lock is a transaction's, held open for the pass:
    it ends with the pass, or with its connection if the process dies."""
    async with database.unit_of_work() as uow:
        if not (await uow.connection.execute(_TRY_LOCK, {"job": job})).scalar():
            return None
        return await task()
