"""What customer consumes: every registered account gets a customer profile, which follows
the account's name, email and phone as auth changes them (auth owns those); every completed
order counts as a purchase of its buyer."""
from datetime import timezone

from autosalon.auth.v1 import auth_pb2
from autosalon.common.v1 import common_pb2
from autosalon.sales.v1 import sales_pb2
from services.kit import money
from services.kit.consumers import Route, Routes
from services.kit.db import UnitOfWork
from services.kit.protos import resource_id
from services.peers import sales

from . import domain
from .handlers import CustomerHandlers

# auth's events that carry an account as changed (each has the whole User, its update_time too).
ACCOUNT_CHANGES = ("updated", "email_changed", "deactivated", "password_changed")


def _account(event: auth_pb2.UserEvent) -> domain.Account:
    user = event.user
    return domain.Account(user_id=resource_id(user.name, "users"), full_name=user.full_name, email=user.email,
                          phone=user.phone, updated_at=user.update_time.ToDatetime(tzinfo=timezone.utc))


def accounts(handlers: CustomerHandlers) -> Routes:
    async def registered(uow: UnitOfWork, event: auth_pb2.UserEvent, envelope: common_pb2.EventEnvelope) -> None:
        await handlers.create_for_account(uow, _account(event))

    async def changed(uow: UnitOfWork, event: auth_pb2.UserEvent, envelope: common_pb2.EventEnvelope) -> None:
        await handlers.copy_account(uow, _account(event))

    copied = Route(auth_pb2.UserEvent, changed)
    return {"autosalon.auth.user.registered": Route(auth_pb2.UserEvent, registered),
            **{f"autosalon.auth.user.{kind}": copied for kind in ACCOUNT_CHANGES}}


def purchases(handlers: CustomerHandlers) -> Routes:
    async def completed(uow: UnitOfWork, event: sales_pb2.OrderChanged, envelope: common_pb2.EventEnvelope) -> None:
        order = event.order
        await handlers.record_purchase(uow, resource_id(order.customer, "users"), {
            "order_id": resource_id(order.name, "orders"), "vehicle": order.vehicle,
            "vehicle_title": order.vehicle_title, "total": money.from_proto(order.total, "total"),
            "currency": order.total.currency_code or "RUB",
            "completed_at": envelope.time.ToDatetime(tzinfo=timezone.utc),
        })

    return {sales.order_event("completed"): Route(sales_pb2.OrderChanged, completed)}
