"""sales' tables: the append-only order events (the truth), and a projection for listing."""
import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, insert

from services.kit.idempotency import NO_KEY, IdempotencyKey, request_column
from services.kit.outbox import OUTBOX_COLUMNS, event_tables
from services.kit.paging import newest_first
from services.kit.pool import Connection
from services.kit.statements import Prepared, Row

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

# Rebuilt from the events on every change, for listing, finding and reading orders: a read
# answers with the snapshot instead of folding the events again.
orders = sa.Table(
    "orders",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("customer", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("deleted", sa.Boolean, nullable=False),
    sa.Column("idempotency_key", sa.Text),
    request_column("idempotency_request"),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    # The order as an autosalon.sales.v1.Order, as of `version`; none for an order last
    # changed before snapshots were kept.
    sa.Column("snapshot", sa.LargeBinary),
)

outbox, consumed_events = event_tables(metadata)


_HOLD_CUSTOMER = Prepared(sa.select(sa.func.pg_advisory_xact_lock(
    sa.func.hashtext(sa.literal("held cars of ") + sa.bindparam("customer", type_=sa.Text)))))
_CONFIRMED_UNPAID = Prepared(sa.select(orders.c.id).where(
    orders.c.customer == sa.bindparam("customer"), orders.c.status == domain.CONFIRMED, ~orders.c.deleted))

# The statements every saga step runs, built once (building one costs more CPU than sending it).
_EVENTS = Prepared(sa.select(order_events).where(order_events.c.order_id == sa.bindparam("order_id"))
                   .order_by(order_events.c.version))


def _record_statement(announced: bool) -> Prepared:
    """Appends one event and, only if its version was still free, sets the order's projection
    row to the order after it and (`announced`) writes the event's outbox row, in one round
    trip; returns the version and the outbox row's seq when it did."""
    appended = (
        insert(order_events)
        .values(order_id=sa.bindparam("order_id"), version=sa.bindparam("order_version"),
                **{name: sa.bindparam(name) for name in ("type", "data", "actor", "occurred_at", "trace_id")})
        .on_conflict_do_nothing()
        .returning(order_events.c.version)
        .cte("appended")
    )
    # Projection column -> parameter (an INSERT reserves its own columns' names for itself).
    projected = {"id": "order_id", "customer": "customer", "status": "status", "version": "order_version",
                 "deleted": "deleted", "idempotency_key": "idempotency_key",
                 "idempotency_request": "idempotency_request", "created_at": "created_at",
                 "updated_at": "updated_at", "snapshot": "snapshot"}
    statement = insert(orders).from_select(list(projected), sa.select(
        *(sa.bindparam(parameter, type_=orders.c[column].type) for column, parameter in projected.items())
    ).where(sa.exists(appended.select())))
    changing = ("customer", "status", "version", "deleted", "updated_at", "snapshot")
    statement = statement.on_conflict_do_update(
        index_elements=[orders.c.id], set_={name: statement.excluded[name] for name in changing})
    if not announced:
        return Prepared(statement.returning(orders.c.version))
    outboxed = insert(outbox).from_select(list(OUTBOX_COLUMNS), sa.select(
        *(sa.bindparam(f"outbox_{column}", type_=outbox.c[column].type) for column in OUTBOX_COLUMNS)
    ).where(sa.exists(appended.select()))).returning(outbox.c.seq).cte("outboxed")
    return Prepared(statement.returning(
        orders.c.version, sa.select(outboxed.c.seq).scalar_subquery().label("outbox_seq")))


_RECORD = _record_statement(announced=False)
_RECORD_AND_ANNOUNCE = _record_statement(announced=True)
_CURRENT = Prepared(sa.select(orders.c.customer, orders.c.deleted, orders.c.snapshot)
                    .where(orders.c.id == sa.bindparam("order_id")))


def _event(row: Row) -> domain.Event:
    return domain.Event(row.version, row.type, row.data, row.actor, row.occurred_at, row.trace_id)


class OrderRepository:
    def __init__(self, connection: Connection):
        self.connection = connection

    async def events(self, order_id: uuid.UUID) -> list[domain.Event]:
        rows = await self.connection.execute(_EVENTS, {"order_id": order_id})
        return [_event(row) for row in rows]

    async def record(self, order: domain.Order, event: domain.Event, snapshot: bytes,
                     idempotency_key: IdempotencyKey = NO_KEY, announcement: dict | None = None) -> Row | None:
        """Appends `event` and sets the projection to `order` (as it is after the event, with
        `snapshot` its protobuf bytes), writing `announcement` (an outbox row) with them. The
        row written (its `outbox_seq` the announcement's), or None when that version exists:
        someone else changed the order meanwhile, and nothing was written."""
        params = {
            "order_id": uuid.UUID(order.id), "order_version": event.version, "type": event.type,
            "data": event.data, "actor": event.actor, "occurred_at": event.occurred_at,
            "trace_id": event.trace_id, "customer": order.customer, "status": order.status,
            "deleted": order.deleted, "idempotency_key": idempotency_key.text or None,
            "idempotency_request": idempotency_key.request,
            "created_at": order.created_at, "updated_at": order.updated_at, "snapshot": snapshot,
        }
        if announcement is None:
            return (await self.connection.execute(_RECORD, params)).first()
        params.update({f"outbox_{column}": announcement[column] for column in OUTBOX_COLUMNS})
        return (await self.connection.execute(_RECORD_AND_ANNOUNCE, params)).first()

    async def current(self, order_id: uuid.UUID) -> Row | None:
        """The order's owner, whether it is deleted, and its snapshot (None for an order not
        changed since snapshots were kept)."""
        return (await self.connection.execute(_CURRENT, {"order_id": order_id})).first()

    async def confirmed_unpaid(self, customer: str) -> list[str]:
        """The names of `customer`'s confirmed orders not yet paid, with the customer held
        (a transaction-scoped lock) until the transaction ends: two confirmations at once
        count one after the other."""
        await self.connection.execute(_HOLD_CUSTOMER, {"customer": customer})
        rows = await self.connection.execute(_CONFIRMED_UNPAID, {"customer": customer})
        return [f"orders/{row.id}" for row in rows]

    async def by_idempotency_key(self, customer: str, key: str) -> Row | None:
        """The order `customer` created with this key (its id and the request it came with), if any."""
        return (await self.connection.execute(sa.select(orders.c.id, orders.c.idempotency_request).where(
            orders.c.customer == customer, orders.c.idempotency_key == key))).first()

    async def page(self, status: str | None, customer: str | None, limit: int,
                   after: tuple[datetime, uuid.UUID] | None):
        """A page of live orders, newest first, of one status and one customer when named,
        and how many there are in all."""
        conditions = []
        if status:
            conditions.append(orders.c.status == status)
        if customer:
            conditions.append(orders.c.customer == customer)
        query = sa.select(orders.c.id, orders.c.created_at, orders.c.snapshot).where(~orders.c.deleted, *conditions)
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
