"""What sales hears in the purchase saga: inventory's reservations, pricing's promo-code
redemptions and payment's outcomes, each applied to the order they name."""
import functools

from autosalon.common.v1 import common_pb2
from autosalon.inventory.v1 import inventory_pb2
from autosalon.payment.v1 import payment_pb2
from autosalon.pricing.v1 import pricing_pb2
from services.kit.bus import payload
from services.kit.db import UnitOfWork

from . import domain
from .handlers import SalesHandlers


def on_inventory_event(handlers: SalesHandlers):
    async def apply(uow: UnitOfWork, envelope: common_pb2.EventEnvelope) -> None:
        kind = envelope.type.removeprefix("autosalon.inventory.vehicle.")
        if kind == "reserved":
            event = payload(envelope, inventory_pb2.VehicleEvent)
            await handlers.follow(uow, event.order_id, "inventory", domain.vehicle_reserved)
        elif kind == "reservation_failed":
            event = payload(envelope, inventory_pb2.ReservationFailedEvent)
            await handlers.follow(uow, event.order_id, "inventory", functools.partial(
                domain.saga_cancel, reason=f"the vehicle could not be reserved: {event.reason}"))
        elif kind == "released":
            event = payload(envelope, inventory_pb2.VehicleEvent)
            if event.reason == "expired":
                await handlers.follow(uow, event.order_id, "inventory", functools.partial(
                    domain.saga_cancel, reason="the vehicle's reservation expired before payment"))

    return apply


def on_pricing_event(handlers: SalesHandlers):
    async def apply(uow: UnitOfWork, envelope: common_pb2.EventEnvelope) -> None:
        kind = envelope.type.removeprefix("autosalon.pricing.promo_code.")
        if kind == "redeemed":
            event = payload(envelope, pricing_pb2.RedemptionEvent)
            await handlers.follow(uow, event.redemption.order_id, "pricing", domain.promo_code_redeemed)
        elif kind == "rejected":
            event = payload(envelope, pricing_pb2.RedemptionRejectedEvent)
            await handlers.follow(uow, event.order_id, "pricing", functools.partial(
                domain.saga_cancel, reason=f"promo code {event.code} could not be used: {event.reason}"))

    return apply


def on_payment_event(handlers: SalesHandlers):
    async def apply(uow: UnitOfWork, envelope: common_pb2.EventEnvelope) -> None:
        kind = envelope.type.removeprefix("autosalon.payment.payment.")
        if kind not in ("succeeded", "failed", "refunded"):
            return
        payment = payload(envelope, payment_pb2.PaymentEvent).payment
        if kind == "succeeded":
            await handlers.follow(uow, payment.order, "payment",
                                  functools.partial(domain.paid, payment=payment.name))
        elif kind == "refunded":
            await handlers.follow(uow, payment.order, "payment", functools.partial(
                domain.payment_refunded, payment=payment.name, reference=payment.refund_reference))
        else:
            await handlers.follow(uow, payment.order, "payment", functools.partial(
                domain.saga_cancel, reason=f"payment failed: {payment.failure_reason}"))

    return apply
