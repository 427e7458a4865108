"""pricing's composition root."""
from autosalon.pricing.v1 import pricing_pb2
from services.kit import app, bus, server

from . import store
from .api import ACCESS, PricingApi
from .events import concerns_pricing, on_order_event
from .handlers import PricingHandlers


async def main() -> None:
    runtime = await app.start("pricing", store.outbox)
    handlers = PricingHandlers(runtime.database, runtime.peers)
    runtime.service.add_service(
        PricingApi(handlers),
        pricing_pb2.DESCRIPTOR.services_by_name["PricingService"],
        ACCESS,
    )
    runtime.service.add_background(lambda: handlers.catalogue.follow_changes(runtime.bus))
    runtime.service.add_background(lambda: bus.consume(
        runtime.database, runtime.bus, store.consumed_events, "sales",
        ("autosalon.sales.order.confirmed", "autosalon.sales.order.cancelled"), "saga", on_order_event(handlers),
        relevant=concerns_pricing))
    await runtime.service.run()


if __name__ == "__main__":
    server.run(main)
