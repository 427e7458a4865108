"""What payment consumes: sales' cancelled orders, whose waiting payments are not charged
(and whose money, if it reached the gateway meanwhile, goes back)."""
from autosalon.common.v1 import common_pb2
from autosalon.sales.v1 import sales_pb2
from services.kit.consumers import Route, Routes
from services.kit.db import UnitOfWork
from services.peers import sales

from .handlers import PaymentHandlers


def cancelled_orders(handlers: PaymentHandlers) -> Routes:
    async def cancelled(uow: UnitOfWork, event: sales_pb2.OrderChanged, envelope: common_pb2.EventEnvelope) -> None:
        await handlers.order_cancelled(uow, event.order.name)

    return {sales.order_event("cancelled"): Route(sales_pb2.OrderChanged, cancelled)}
