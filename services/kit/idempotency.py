"""Creations a caller may safely send again: the first answer to an Idempotency-Key is the
answer to every retry with it.

A create whose answer was lost on the way is retried with the same key and creates nothing
more. The key is claimed in the transaction that creates, before anything else is written:
the claim and the creation are committed together or not at all, and a retry racing the first
attempt waits on the claim's row until that commits, then finds it.
"""
import functools
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from .pool import Connection
from .errors import NotFound


def _table(metadata: sa.MetaData) -> sa.Table:
    return sa.Table(
        "idempotency_claims",
        metadata,
        sa.Column("caller", sa.Text, primary_key=True),
        # What kind of thing the key created ("customers"): one key may serve each kind once.
        sa.Column("scope", sa.Text, primary_key=True),
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("resource_id", sa.Uuid, nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
    )


def create_idempotency_claims_table(op) -> None:
    """For a service's migration: the idempotency-claims table as of v1."""
    _table(sa.MetaData()).create(op.get_bind())


class IdempotencyClaims:
    """The service's idempotency-claims table (added to its metadata)."""

    def __init__(self, metadata: sa.MetaData):
        self.table = _table(metadata)
        self._claim = insert(self.table).on_conflict_do_nothing().returning(self.table.c.resource_id)
        self._earlier = sa.select(self.table.c.resource_id).where(
            self.table.c.caller == sa.bindparam("caller"), self.table.c.scope == sa.bindparam("scope"),
            self.table.c.key == sa.bindparam("key"))

    def on(self, connection: Connection):
        """`earlier` on one unit of work's connection (for the service's repository to hand out)."""
        return functools.partial(self.earlier, connection)

    async def earlier(self, connection: Connection, caller: str, scope: str, key: str,
                      new_id, moment: datetime):
        """None when there is no key or this is its first use: the caller goes on to create
        `new_id`, the key now standing for it. Otherwise the id the key's first use created."""
        if not key:
            return None
        keys = {"caller": caller, "scope": scope, "key": key}
        claimed = (await connection.execute(self._claim, {**keys, "resource_id": new_id, "claimed_at": moment})).first()
        if claimed is not None:
            return None
        return await connection.scalar(self._earlier, keys)


def still_there(row, name: str):
    """The row the first use of a key created, unless it was deleted since (NotFound)."""
    if row is None:
        raise NotFound(f"{name}, created with this Idempotency-Key, was deleted since")
    return row
