"""What notification consumes so far: auth's account events (where messages go, and the welcome
of a registration), sales' order events and booking's workshop bookings."""
import datetime
import uuid

from autosalon.auth.v1 import auth_pb2
from autosalon.booking.v1 import booking_pb2
from autosalon.common.v1 import common_pb2
from autosalon.sales.v1 import sales_pb2
from services.kit.consumers import Route, Routes
from services.kit.db import UnitOfWork

from .handlers import NotificationHandlers


def accounts(handlers: NotificationHandlers) -> Routes:
    async def changed(uow: UnitOfWork, event: auth_pb2.UserEvent, envelope: common_pb2.EventEnvelope) -> None:
        await handlers.account_changed(uow, event.user, envelope.time.ToDatetime(tzinfo=datetime.timezone.utc))

    async def registered(uow: UnitOfWork, event: auth_pb2.UserEvent, envelope: common_pb2.EventEnvelope) -> None:
        await changed(uow, event, envelope)
        await handlers.welcome(uow, event.user, uuid.UUID(envelope.id))

    route = Route(auth_pb2.UserEvent, changed)
    return {"autosalon.auth.user.registered": Route(auth_pb2.UserEvent, registered),
            "autosalon.auth.user.updated": route, "autosalon.auth.user.deactivated": route}


def bookings(handlers: NotificationHandlers) -> Routes:
    """booking's workshop bookings: made, moved, cancelled, and their reminders."""
    def told(kind: str) -> Route:
        async def apply(uow: UnitOfWork, event: booking_pb2.BookingEvent, envelope: common_pb2.EventEnvelope) -> None:
            await handlers.booking_changed(uow, kind, event.booking, uuid.UUID(envelope.id))

        return Route(booking_pb2.BookingEvent, apply)

    return {f"autosalon.booking.booking.{event}": told(f"booking_{kind}") for event, kind in (
        ("created", "created"), ("rescheduled", "rescheduled"), ("cancelled", "cancelled"), ("reminder_due", "reminder"))}


def orders(handlers: NotificationHandlers) -> Routes:
    """sales' orders: confirmed, paid, handed over, cancelled, each told to its customer."""
    def told(kind: str) -> Route:
        async def apply(uow: UnitOfWork, event: sales_pb2.OrderChanged, envelope: common_pb2.EventEnvelope) -> None:
            await handlers.order_changed(uow, kind, event.order, uuid.UUID(envelope.id))

        return Route(sales_pb2.OrderChanged, apply)

    return {f"autosalon.sales.order.{event}": told(f"order_{event}")
            for event in ("confirmed", "paid", "completed", "cancelled")}
