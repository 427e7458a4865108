"""What payment consumes (sales' cancelled orders: their waiting payments are not charged)
and the background queue of card payments waiting for the gateway."""
import asyncio
import logging

from autosalon.common.v1 import common_pb2
from autosalon.sales.v1 import sales_pb2
from services.kit.bus import payload
from services.kit.db import UnitOfWork, report_failure

from .handlers import PaymentHandlers

log = logging.getLogger(__name__)


def on_order_cancelled(handlers: PaymentHandlers):
    async def apply(uow: UnitOfWork, envelope: common_pb2.EventEnvelope) -> None:
        event = payload(envelope, sales_pb2.OrderChanged)
        await handlers.order_cancelled(uow, event.order.name)

    return apply


async def work_the_queue(handlers: PaymentHandlers, every_seconds: float) -> None:
    """Charges queued payments when the gateway is reachable again; runs for the life of the
    service (while the breaker is open, each pass ends at its first refusal, costing nothing)."""
    while True:
        try:
            if await handlers.drain_queue():
                continue
        except asyncio.CancelledError:
            raise
        except Exception as error:
            report_failure(log, "payment queue pass failed; trying again", error)
        await asyncio.sleep(every_seconds)
