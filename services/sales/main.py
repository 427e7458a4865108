"""sales' composition root."""
from autosalon.sales.v1 import sales_pb2
from services.kit import runtime, server, watches
from services.peers import auth

from . import SERVICE, events, store
from .api import ACCESS, SalesApi
from .handlers import SalesHandlers


async def main() -> None:
    service = await runtime.start(SERVICE, store.outbox, store.OrderRepository, auth.TRUST)
    own = service.settings
    # Each watch of an order wakes at its events, from either instance.
    order_watches = watches.served(service.service, service.bus, "autosalon.sales.order.>",
                                   lambda: own.watch_seconds, lambda: own.most_watches)
    handlers = SalesHandlers(service.database, service.peers, own.most_held, order_watches)
    service.serve(SalesApi(handlers), sales_pb2.DESCRIPTOR.services_by_name["SalesService"], ACCESS)
    # The saga steps sales follows, one durable consumer per reporting service.
    service.consume("saga-inventory", events.inventory(handlers))
    service.consume("saga-pricing", events.pricing(handlers))
    service.consume("saga-payment", events.payment(handlers))
    await service.run()


if __name__ == "__main__":
    server.run(main)
