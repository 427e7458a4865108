"""Creations a caller may safely send again: the first answer to an Idempotency-Key is the
answer to every retry with it.

A create whose answer was lost on the way is retried with the same key and creates nothing
more. The key is claimed in the transaction that creates, before anything else is written:
the claim and the creation are committed together or not at all, and a retry racing the first
attempt waits on the claim's row until that commits, then finds it.

A key is bound to the request it first came with: the same key with another request (another
order to pay, another body) is refused, never answered with the first request's result.
"""
import functools
import hashlib
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from google.protobuf.message import Message
from sqlalchemy.dialects.postgresql import insert

from .errors import IDEMPOTENCY_KEY_REUSED, RESOURCE_DELETED, InvalidArgument, NotFound, Violation
from .pool import Connection


@dataclass(frozen=True)
class IdempotencyKey:
    """A client's Idempotency-Key (`text`, empty for none) and a digest of the request it came
    with (its message type and content)."""
    text: str
    request: str

    @classmethod
    def of(cls, text: str, request: Message) -> "IdempotencyKey":
        content = request.DESCRIPTOR.full_name.encode() + b"\0" + request.SerializeToString(deterministic=True)
        return cls(text, hashlib.sha256(content).hexdigest())

    def __bool__(self) -> bool:
        return bool(self.text)


NO_KEY = IdempotencyKey("", "")


def same_request(first_request: str, key: IdempotencyKey) -> None:
    """Refuses a key whose first use came with another request. A first use from before
    requests were remembered ("") passes."""
    if first_request and first_request != key.request:
        raise InvalidArgument([Violation("idempotency_key", "was used for another request; send a new key with a new "
                                         "request", IDEMPOTENCY_KEY_REUSED)],
                              "the Idempotency-Key was used for another request", IDEMPOTENCY_KEY_REUSED)


def _table(metadata: sa.MetaData, remembers_requests: bool = True) -> sa.Table:
    return sa.Table(
        "idempotency_claims",
        metadata,
        sa.Column("caller", sa.Text, primary_key=True),
        # What kind of thing the key created ("customers"): one key may serve each kind once.
        sa.Column("scope", sa.Text, primary_key=True),
        sa.Column("key", sa.Text, primary_key=True),
        sa.Column("resource_id", sa.Uuid, nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=False),
        *([request_column("request")] if remembers_requests else []),
    )


def request_column(name: str) -> sa.Column:
    """The digest of the request a key first came with ("" for keys claimed before it was kept)."""
    return sa.Column(name, sa.Text, nullable=False, server_default="")


def create_idempotency_claims_table(op) -> None:
    """For a service's migration: the idempotency-claims table as of v1."""
    _table(sa.MetaData(), remembers_requests=False).create(op.get_bind())


def remember_requests(op, table: str = "idempotency_claims", column: str = "request") -> None:
    """For a service's migration: `table` keeps the request each key first came with."""
    op.add_column(table, request_column(column))


class IdempotencyClaims:
    """The service's idempotency-claims table (added to its metadata)."""

    def __init__(self, metadata: sa.MetaData):
        self.table = _table(metadata)
        self._claim = insert(self.table).on_conflict_do_nothing().returning(self.table.c.resource_id)
        self._earlier = sa.select(self.table.c.resource_id, self.table.c.request).where(
            self.table.c.caller == sa.bindparam("caller"), self.table.c.scope == sa.bindparam("scope"),
            self.table.c.key == sa.bindparam("key"))

    def on(self, connection: Connection):
        """`earlier` on one unit of work's connection (for the service's repository to hand out)."""
        return functools.partial(self.earlier, connection)

    async def earlier(self, connection: Connection, caller: str, scope: str, key: IdempotencyKey,
                      new_id, moment: datetime):
        """None when there is no key or this is its first use: the caller goes on to create
        `new_id`, the key now standing for it. Otherwise the id the key's first use created
        (InvalidArgument when that use came with another request)."""
        if not key:
            return None
        keys = {"caller": caller, "scope": scope, "key": key.text}
        claimed = (await connection.execute(self._claim, {**keys, "request": key.request, "resource_id": new_id,
                                                          "claimed_at": moment})).first()
        if claimed is not None:
            return None
        first = (await connection.execute(self._earlier, keys)).one()
        same_request(first.request, key)
        return first.resource_id


def still_there(row, name: str):
    """The row the first use of a key created, unless it was deleted since (NotFound)."""
    if row is None:
        raise NotFound(f"{name}, created with this Idempotency-Key, was deleted since", RESOURCE_DELETED,
                       {"resource": name})
    return row
