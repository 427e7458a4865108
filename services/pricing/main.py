"""pricing's composition root."""
from autosalon.pricing.v1 import pricing_pb2
from services.kit import runtime, server
from services.peers import auth, catalog

from . import SERVICE, events, store
from .api import ACCESS, PricingApi
from .handlers import PricingHandlers


async def main() -> None:
    service = await runtime.start(SERVICE, store.outbox, store.PricingRepository, auth.TRUST)
    handlers = PricingHandlers(service.database, service.peers)
    service.serve(PricingApi(handlers), pricing_pb2.DESCRIPTOR.services_by_name["PricingService"], ACCESS)
    service.hear(catalog.EVERY_CHANGE, handlers.catalogue.forget)
    service.consume("saga", events.saga(handlers))
    await service.run()


if __name__ == "__main__":
    server.run(main)
