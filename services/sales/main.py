"""sales' composition root."""
import functools

from autosalon.sales.v1 import sales_pb2
from services.kit import app, bus, server

from . import store
from .api import ACCESS, SalesApi
from .events import on_inventory_event, on_payment_event, on_pricing_event
from .handlers import SalesHandlers

# The saga steps sales follows: (publishing service, subjects, durable consumer, handler).
SAGA_INPUTS = (
    ("inventory", tuple(f"autosalon.inventory.vehicle.{kind}" for kind in ("reserved", "reservation_failed", "released")),
     "saga-inventory", on_inventory_event),
    ("pricing", ("autosalon.pricing.promo_code.redeemed", "autosalon.pricing.promo_code.rejected"),
     "saga-pricing", on_pricing_event),
    ("payment", tuple(f"autosalon.payment.payment.{kind}" for kind in ("succeeded", "failed", "refunded")),
     "saga-payment", on_payment_event),
)


async def main() -> None:
    runtime = await app.start("sales", store.outbox)
    handlers = SalesHandlers(runtime.database, runtime.peers)
    runtime.service.add_service(
        SalesApi(handlers),
        sales_pb2.DESCRIPTOR.services_by_name["SalesService"],
        ACCESS,
    )
    for source, subjects, durable, handler in SAGA_INPUTS:
        runtime.service.add_background(functools.partial(
            bus.consume, runtime.database, runtime.bus, store.consumed_events, source, subjects,
            durable, handler(handlers)))
    await runtime.service.run()


if __name__ == "__main__":
    server.run(main)
