"""What pricing consumes: sales' order events, for the purchase saga."""
import logging

from autosalon.common.v1 import common_pb2
from autosalon.pricing.v1 import pricing_pb2
from autosalon.sales.v1 import sales_pb2
from services.kit.consumers import Route, Routes
from services.kit.db import UnitOfWork
from services.kit.errors import DomainError, FailedPrecondition, InvalidArgument, NotFound, ResourceExhausted
from services.peers import sales

from .handlers import PricingHandlers

log = logging.getLogger(__name__)


def saga(handlers: PricingHandlers) -> Routes:
    """The purchase saga: a confirmed order takes its promo code's use (or is refused, and
    sales cancels it); a cancelled order gives the use back, once. A confirmed order without a
    promo code (most of them) asks nothing of pricing: it is acked without a unit of work."""

    async def confirmed(uow: UnitOfWork, event: sales_pb2.OrderChanged, envelope: common_pb2.EventEnvelope) -> None:
        order = event.order
        try:
            await handlers.redeem_in(uow, order.promo_code, order.name, order.customer)
        except FailedPrecondition:
            log.info("%s was cancelled before its confirmation was handled; its code stays unused", order.name)
        except (InvalidArgument, NotFound, ResourceExhausted) as refusal:
            await uow.emit("promo_code.rejected", order.name, pricing_pb2.RedemptionRejectedEvent(
                code=order.promo_code, order_id=order.name, reason=_reason(refusal)))

    async def cancelled(uow: UnitOfWork, event: sales_pb2.OrderChanged, envelope: common_pb2.EventEnvelope) -> None:
        await handlers.order_cancelled(uow, event.order.name)

    return {
        sales.order_event("confirmed"): Route(sales_pb2.OrderChanged, confirmed,
                                              wanted=lambda event: bool(event.order.promo_code)),
        sales.order_event("cancelled"): Route(sales_pb2.OrderChanged, cancelled),
    }


def _reason(refusal: DomainError) -> str:
    if isinstance(refusal, InvalidArgument):
        return "; ".join(text for _, text in refusal.violations)
    return refusal.message
