"""What pricing consumes: sales' order events, for the purchase saga."""
import logging

from autosalon.common.v1 import common_pb2
from autosalon.pricing.v1 import pricing_pb2
from autosalon.sales.v1 import sales_pb2
from services.kit.bus import payload
from services.kit.db import UnitOfWork
from services.kit.errors import DomainError, FailedPrecondition, InvalidArgument, NotFound, ResourceExhausted

from .handlers import PricingHandlers

log = logging.getLogger(__name__)


def concerns_pricing(envelope: common_pb2.EventEnvelope) -> bool:
    """A cancelled order may give a use back; a confirmed order matters only with a promo
    code (most have none, and their confirmation needs no unit of work here at all)."""
    if envelope.type == "autosalon.sales.order.confirmed":
        return bool(payload(envelope, sales_pb2.OrderChanged).order.promo_code)
    return True


def on_order_event(handlers: PricingHandlers):
    """The purchase saga: a confirmed order takes its promo code's use (or is refused, and
    sales cancels it); a cancelled order gives the use back, once."""

    async def apply(uow: UnitOfWork, envelope: common_pb2.EventEnvelope) -> None:
        kind = envelope.type.removeprefix("autosalon.sales.order.")
        if kind not in ("confirmed", "cancelled"):
            return
        event = payload(envelope, sales_pb2.OrderChanged)
        order = event.order
        if kind == "cancelled":
            await handlers.order_cancelled(uow, order.name)
            return
        if not order.promo_code:
            return
        try:
            await handlers.redeem_in(uow, order.promo_code, order.name, order.customer)
        except FailedPrecondition:
            log.info("%s was cancelled before its confirmation was handled; its code stays unused", order.name)
        except (InvalidArgument, NotFound, ResourceExhausted) as refusal:
            await uow.emit("promo_code.rejected", order.name, pricing_pb2.RedemptionRejectedEvent(
                code=order.promo_code, order_id=order.name, reason=_reason(refusal)))

    return apply


def _reason(refusal: DomainError) -> str:
    if isinstance(refusal, InvalidArgument):
        return "; ".join(text for _, text in refusal.violations)
    return refusal.message
