"""sales' tables: the append-only order events (the truth), and a projection for listing."""
import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, insert

from services.kit.db import Connection, Prepared, event_tables
from services.kit.paging import newest_first

from . import domain

metadata = sa.MetaData()

order_events = sa.Table(
    "order_events",
    metadata,
    sa.Column("order_id", sa.Uuid, primary_key=True),
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("type", sa.Text, nullable=False),
    sa.Column("data", JSONB, nullable=False),
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("trace_id", sa.Text, nullable=False),
)

# Rebuilt from the events on every change; only for listing and finding orders.
orders = sa.Table(
    "orders",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("customer", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("deleted", sa.Boolean, nullable=False),
    sa.Column("idempotency_key", sa.Text),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

outbox, consumed_events = event_tables(metadata)


# The statements every saga step runs, built once (building one costs more CPU than sending it).
_EVENTS = Prepared(sa.select(order_events).where(order_events.c.order_id == sa.bindparam("order_id"))
                   .order_by(order_events.c.version))
_LOCK = Prepared(sa.select(orders.c.id).where(orders.c.id == sa.bindparam("order_id")).with_for_update())
_APPEND = Prepared(insert(order_events).on_conflict_do_nothing().returning(order_events.c.version))
_PROJECTED = ("customer", "status", "version", "deleted", "updated_at")
_PROJECT = Prepared(insert(orders).on_conflict_do_update(
    index_elements=[orders.c.id], set_={name: insert(orders).excluded[name] for name in _PROJECTED}))


def _event(row: sa.Row) -> domain.Event:
    return domain.Event(row.version, row.type, row.data, row.actor, row.occurred_at, row.trace_id)


class OrderRepository:
    def __init__(self, connection: Connection):
        self.connection = connection

    async def events(self, order_id: uuid.UUID) -> list[domain.Event]:
        rows = await self.connection.execute(_EVENTS, {"order_id": order_id})
        return [_event(row) for row in rows]

    async def lock(self, order_id: uuid.UUID) -> None:
        """Lines up the saga's writers on one order (clients' writes stay optimistic)."""
        await self.connection.execute(_LOCK, {"order_id": order_id})

    async def append(self, order_id: uuid.UUID, event: domain.Event) -> bool:
        """False when that version exists: someone else changed the order meanwhile."""
        result = await self.connection.execute(_APPEND, {
            "order_id": order_id, "version": event.version, "type": event.type, "data": event.data,
            "actor": event.actor, "occurred_at": event.occurred_at, "trace_id": event.trace_id,
        })
        return result.first() is not None

    async def project(self, order: domain.Order, idempotency_key: str | None = None) -> None:
        await self.connection.execute(_PROJECT, {
            "id": uuid.UUID(order.id), "created_at": order.created_at,
            "idempotency_key": idempotency_key or None, "customer": order.customer,
            "status": order.status, "version": order.version, "deleted": order.deleted,
            "updated_at": order.updated_at,
        })

    async def by_idempotency_key(self, customer: str, key: str) -> uuid.UUID | None:
        return await self.connection.scalar(sa.select(orders.c.id).where(
            orders.c.customer == customer, orders.c.idempotency_key == key))

    async def page(self, conditions: list, limit: int, after: tuple[datetime, uuid.UUID] | None):
        query = sa.select(orders.c.id, orders.c.created_at).where(~orders.c.deleted, *conditions)
        rows = list(await self.connection.execute(
            newest_first(query, orders.c.created_at, orders.c.id, after, limit)))
        total = await self.connection.scalar(
            sa.select(sa.func.count()).select_from(orders).where(~orders.c.deleted, *conditions))
        return rows, total

    async def events_of(self, order_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[domain.Event]]:
        found: dict[uuid.UUID, list[domain.Event]] = {order_id: [] for order_id in order_ids}
        rows = await self.connection.execute(
            sa.select(order_events).where(order_events.c.order_id.in_(order_ids))
            .order_by(order_events.c.order_id, order_events.c.version))
        for row in rows:
            found[row.order_id].append(_event(row))
        return found
