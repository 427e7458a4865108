"""What customer consumes: every registered account gets a customer profile; every
completed order counts as a purchase of its buyer."""
import uuid
from datetime import timezone

from autosalon.auth.v1 import auth_pb2
from autosalon.common.v1 import common_pb2
from autosalon.sales.v1 import sales_pb2
from services.kit import money
from services.kit.bus import payload
from services.kit.db import UnitOfWork

from .handlers import CustomerHandlers


def on_user_registered(handlers: CustomerHandlers):
    async def apply(uow: UnitOfWork, envelope: common_pb2.EventEnvelope) -> None:
        event = payload(envelope, auth_pb2.UserEvent)
        user = event.user
        await handlers.create_for_account(
            uow, uuid.UUID(user.name.removeprefix("users/")), user.full_name, user.email, user.phone)

    return apply


def on_order_completed(handlers: CustomerHandlers):
    async def apply(uow: UnitOfWork, envelope: common_pb2.EventEnvelope) -> None:
        event = payload(envelope, sales_pb2.OrderChanged)
        order = event.order
        await handlers.record_purchase(uow, uuid.UUID(order.customer.removeprefix("users/")), {
            "order_id": uuid.UUID(order.name.removeprefix("orders/")), "vehicle": order.vehicle,
            "vehicle_title": order.vehicle_title, "total": money.from_proto(order.total, "total"),
            "currency": order.total.currency_code or "RUB",
            "completed_at": envelope.time.ToDatetime(tzinfo=timezone.utc),
        })

    return apply
