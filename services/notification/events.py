"""What notification consumes: auth's account events (where messages go, the welcome of a
registration, the notices of a changed password or address) and its emailed links; CRM's
customer profiles (where messages go); and the events its customers are told of: sales'
orders, payment's failures and refunds, financing's decisions, insurance's policies, booking's
workshop bookings."""
import datetime
import uuid
from typing import Awaitable, Callable

from autosalon.auth.v1 import auth_pb2
from autosalon.booking.v1 import booking_pb2
from autosalon.common.v1 import common_pb2
from autosalon.customer.v1 import customer_pb2
from autosalon.financing.v1 import financing_pb2
from autosalon.insurance.v1 import insurance_pb2
from autosalon.payment.v1 import payment_pb2
from autosalon.sales.v1 import sales_pb2
from services.kit.consumers import Route, Routes
from services.kit.db import UnitOfWork

from .handlers import NotificationHandlers


def _at(envelope: common_pb2.EventEnvelope) -> datetime.datetime:
    return envelope.time.ToDatetime(tzinfo=datetime.timezone.utc)


def accounts(handlers: NotificationHandlers) -> Routes:
    async def changed(uow: UnitOfWork, event: auth_pb2.UserEvent, envelope: common_pb2.EventEnvelope) -> None:
        await handlers.account_changed(uow, event.user, _at(envelope))

    async def registered(uow: UnitOfWork, event: auth_pb2.UserEvent, envelope: common_pb2.EventEnvelope) -> None:
        await changed(uow, event, envelope)
        await handlers.welcome(uow, event.user, uuid.UUID(envelope.id))

    def secured(kind: str) -> Route:
        async def apply(uow: UnitOfWork, event: auth_pb2.UserEvent, envelope: common_pb2.EventEnvelope) -> None:
            await changed(uow, event, envelope)
            await handlers.account_secured(uow, kind, event, _at(envelope), uuid.UUID(envelope.id))

        return Route(auth_pb2.UserEvent, apply)

    route = Route(auth_pb2.UserEvent, changed)
    return {"autosalon.auth.user.registered": Route(auth_pb2.UserEvent, registered),
            "autosalon.auth.user.updated": route, "autosalon.auth.user.deactivated": route,
            "autosalon.auth.user.password_changed": secured("password_changed"),
            "autosalon.auth.user.email_changed": secured("email_changed")}


def account_links(handlers: NotificationHandlers) -> Routes:
    """auth's emailed links: an address to verify, a password to reset."""
    def told(kind: str) -> Route:
        async def apply(uow: UnitOfWork, event: auth_pb2.AccountLinkEvent, envelope: common_pb2.EventEnvelope
                        ) -> None:
            await handlers.account_link(uow, kind, event.user, event.token,
                                        event.expire_time.ToDatetime(tzinfo=datetime.timezone.utc),
                                        uuid.UUID(envelope.id))

        return Route(auth_pb2.AccountLinkEvent, apply)

    return {f"autosalon.auth.account_link.{kind}": told(kind) for kind in ("email_verification", "password_reset")}


def profiles(handlers: NotificationHandlers) -> Routes:
    """CRM's customer profiles: the email and phone staff keep there."""
    async def changed(uow: UnitOfWork, event: customer_pb2.CustomerEvent, envelope: common_pb2.EventEnvelope) -> None:
        await handlers.profile_changed(uow, event.customer, _at(envelope))

    route = Route(customer_pb2.CustomerEvent, changed)
    return {"autosalon.customer.customer.created": route, "autosalon.customer.customer.updated": route}


Tell = Callable[[UnitOfWork, str, object, uuid.UUID], Awaitable[None]]


def _told(prefix: str, event_type, field: str, tell: Tell, kinds: dict[str, str]) -> Routes:
    """Each event `<prefix>.<event>` told as the message `kinds[event]`: `tell(uow, kind, the
    event's `field`, the event's id)`."""
    def route(kind: str) -> Route:
        async def apply(uow: UnitOfWork, event, envelope: common_pb2.EventEnvelope) -> None:
            await tell(uow, kind, getattr(event, field), uuid.UUID(envelope.id))

        return Route(event_type, apply)

    return {f"{prefix}.{event}": route(kind) for event, kind in kinds.items()}


def orders(handlers: NotificationHandlers) -> Routes:
    """sales' orders: confirmed, paid, handed over, cancelled."""
    return _told("autosalon.sales.order", sales_pb2.OrderChanged, "order", handlers.order_changed,
                 {event: f"order_{event}" for event in ("confirmed", "paid", "completed", "cancelled")})


def payments(handlers: NotificationHandlers) -> Routes:
    """payment's failed and refunded payments."""
    return _told("autosalon.payment.payment", payment_pb2.PaymentEvent, "payment", handlers.payment_changed,
                 {"failed": "payment_failed", "refunded": "payment_refunded"})


def loans(handlers: NotificationHandlers) -> Routes:
    """financing's decisions on loan applications, by its rules or a manager."""
    return _told("autosalon.financing.application", financing_pb2.ApplicationEvent, "application",
                 handlers.loan_decided, {"approved": "loan_approved", "rejected": "loan_rejected"})


def policies(handlers: NotificationHandlers) -> Routes:
    """insurance's policies: issued by the insurer, and ending soon."""
    return _told("autosalon.insurance.policy", insurance_pb2.PolicyEvent, "policy", handlers.policy_changed,
                 {"issued": "policy_issued", "expiring": "policy_expiring"})


def bookings(handlers: NotificationHandlers) -> Routes:
    """booking's workshop bookings: made, moved, cancelled, and their reminders."""
    return _told("autosalon.booking.booking", booking_pb2.BookingEvent, "booking", handlers.booking_changed,
                 {"created": "booking_created", "rescheduled": "booking_rescheduled",
                  "cancelled": "booking_cancelled", "reminder_due": "booking_reminder"})
