"""What sales hears in the purchase saga: inventory's reservations, pricing's promo-code
redemptions and payment's outcomes, each applied to the order they name."""
import functools
from datetime import timezone

from autosalon.common.v1 import common_pb2
from autosalon.inventory.v1 import inventory_pb2
from autosalon.payment.v1 import payment_pb2
from autosalon.pricing.v1 import pricing_pb2
from services.kit import money
from services.kit.consumers import Route, Routes
from services.kit.db import UnitOfWork

from . import domain
from .handlers import SalesHandlers


def inventory(handlers: SalesHandlers) -> Routes:
    async def reserved(uow: UnitOfWork, event: inventory_pb2.VehicleEvent, envelope: common_pb2.EventEnvelope) -> None:
        reservation = event.vehicle.reservation
        held_until = (reservation.expire_time.ToDatetime(tzinfo=timezone.utc)
                      if reservation.HasField("expire_time") else None)
        await handlers.follow(uow, event.order_id, "inventory", functools.partial(
            domain.vehicle_reserved, held_until=held_until))

    async def refused(uow: UnitOfWork, event: inventory_pb2.ReservationFailedEvent,
                      envelope: common_pb2.EventEnvelope) -> None:
        await handlers.follow(uow, event.order_id, "inventory", functools.partial(
            domain.saga_cancel, reason=f"the vehicle could not be reserved: {event.reason}"))

    async def released(uow: UnitOfWork, event: inventory_pb2.VehicleEvent, envelope: common_pb2.EventEnvelope) -> None:
        await handlers.follow(uow, event.order_id, "inventory", functools.partial(
            domain.saga_cancel, reason="the vehicle's reservation expired before payment"))

    return {
        "autosalon.inventory.vehicle.reserved": Route(inventory_pb2.VehicleEvent, reserved),
        "autosalon.inventory.vehicle.reservation_failed": Route(inventory_pb2.ReservationFailedEvent, refused),
        # Only a reservation that ran out cancels the order; a release sales asked for does not.
        "autosalon.inventory.vehicle.released": Route(inventory_pb2.VehicleEvent, released,
                                                      wanted=lambda event: event.reason == "expired"),
    }


def pricing(handlers: SalesHandlers) -> Routes:
    async def redeemed(uow: UnitOfWork, event: pricing_pb2.RedemptionEvent, envelope: common_pb2.EventEnvelope) -> None:
        await handlers.follow(uow, event.redemption.order_id, "pricing", domain.promo_code_redeemed)

    async def rejected(uow: UnitOfWork, event: pricing_pb2.RedemptionRejectedEvent,
                       envelope: common_pb2.EventEnvelope) -> None:
        await handlers.follow(uow, event.order_id, "pricing", functools.partial(
            domain.saga_cancel, reason=f"promo code {event.code} could not be used: {event.reason}"))

    return {
        "autosalon.pricing.promo_code.redeemed": Route(pricing_pb2.RedemptionEvent, redeemed),
        "autosalon.pricing.promo_code.rejected": Route(pricing_pb2.RedemptionRejectedEvent, rejected),
    }


def payment(handlers: SalesHandlers) -> Routes:
    async def succeeded(uow: UnitOfWork, event: payment_pb2.PaymentEvent, envelope: common_pb2.EventEnvelope) -> None:
        paid = event.payment
        # Empty in events from before orders were paid in parts: that one payment paid it all.
        so_far = money.from_proto(event.order_paid, "order_paid") if event.order_paid.amount else None
        await handlers.follow(uow, paid.order, "payment", functools.partial(
            domain.paid, payment=paid.name, paid_so_far=so_far))

    async def refunded(uow: UnitOfWork, event: payment_pb2.PaymentEvent, envelope: common_pb2.EventEnvelope) -> None:
        refund = event.payment
        await handlers.follow(uow, refund.order, "payment", functools.partial(
            domain.payment_refunded, payment=refund.name, reference=refund.refund_reference))

    async def failed(uow: UnitOfWork, event: payment_pb2.PaymentEvent, envelope: common_pb2.EventEnvelope) -> None:
        await handlers.follow(uow, event.payment.order, "payment", functools.partial(
            domain.saga_cancel, reason=f"payment failed: {event.payment.failure_reason}"))

    return {
        "autosalon.payment.payment.succeeded": Route(payment_pb2.PaymentEvent, succeeded),
        "autosalon.payment.payment.refunded": Route(payment_pb2.PaymentEvent, refunded),
        "autosalon.payment.payment.failed": Route(payment_pb2.PaymentEvent, failed),
    }
