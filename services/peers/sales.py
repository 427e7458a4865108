"""sales' client: an order as sales has it, the subjects of its order events, and the ledger of
the orders a service has heard sales cancel.

A service that acts on an order (payment charges it, pricing redeems its promo code) must not
act for an order it has already heard was cancelled: one event of an order may fail and be
redelivered after a later one was handled, and an API call may race the cancellation. Both
sides take the order's lock first, so whichever commits second sees the first.
"""
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from autosalon.sales.v1 import sales_pb2, sales_pb2_grpc
from services.kit.calls import Peers
from services.kit.pool import Connection
from services.kit.statements import Prepared


def order_event(kind: str) -> str:
    """The subject of an order event: order_event("paid") is "autosalon.sales.order.paid"
    (its payload an OrderChanged)."""
    return f"autosalon.sales.order.{kind}"


async def get_order(peers: Peers, name: str) -> sales_pb2.Order:
    """The order "orders/{uuid}" as sales has it now, as the caller may see it (the caller's
    token travels along: a client sees only their own orders)."""
    return await peers.call("sales", sales_pb2_grpc.SalesServiceStub, "GetOrder",
                            sales_pb2.GetOrderRequest(name=name))


def _table(metadata: sa.MetaData) -> sa.Table:
    return sa.Table(
        "cancelled_orders",
        metadata,
        sa.Column("order_id", sa.Text, primary_key=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=False),
    )


def create_cancelled_orders_table(op) -> None:
    """For a service's migration: the cancelled-orders table as of v1."""
    _table(sa.MetaData()).create(op.get_bind())


class CancelledOrders:
    """The service's cancelled-orders table (added to its metadata) and the order lock."""

    def __init__(self, metadata: sa.MetaData):
        self.table = _table(metadata)
        # A transaction-scoped advisory lock: no row needs to exist for the order to be locked.
        self._lock = Prepared(sa.select(sa.func.pg_advisory_xact_lock(sa.func.hashtext(sa.bindparam("order_id")))))
        self._exists = Prepared(sa.select(self.includes(sa.bindparam("order_id"))))
        self._mark = Prepared(insert(self.table).on_conflict_do_nothing())

    def includes(self, order_id: sa.ColumnElement) -> sa.Exists:
        """Whether `order_id` is a cancelled order, for a statement of the service's own (taken
        after the lock, it sees a cancellation committed before)."""
        return sa.exists().where(self.table.c.order_id == order_id)

    async def lock(self, connection: Connection, order_id: str) -> None:
        """Holds the order until the transaction ends."""
        await connection.execute(self._lock, {"order_id": order_id})

    async def is_cancelled(self, connection: Connection, order_id: str) -> bool:
        return await connection.scalar(self._exists, {"order_id": order_id})

    async def mark(self, connection: Connection, order_id: str, moment: datetime) -> None:
        await connection.execute(self._mark, {"order_id": order_id, "cancelled_at": moment})

    def on(self, connection: Connection) -> "CancelledOrdersOn":
        """The ledger as one unit of work sees it (for the service's repository to hand out)."""
        return CancelledOrdersOn(self, connection)


@dataclass(frozen=True)
class CancelledOrdersOn:
    """CancelledOrders on one connection."""
    ledger: CancelledOrders
    connection: Connection

    async def lock(self, order_id: str) -> None:
        await self.ledger.lock(self.connection, order_id)

    async def is_cancelled(self, order_id: str) -> bool:
        return await self.ledger.is_cancelled(self.connection, order_id)

    async def mark(self, order_id: str, moment: datetime) -> None:
        await self.ledger.mark(self.connection, order_id, moment)
