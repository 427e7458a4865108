"""inventory's composition root."""
from autosalon.inventory.v1 import inventory_pb2
from services.kit import runtime, server
from services.peers import auth

from . import SERVICE, events, store
from .api import ACCESS, InventoryApi
from .handlers import InventoryHandlers


async def main() -> None:
    service = await runtime.start(SERVICE, store.outbox, store.InventoryRepository, auth.TRUST)
    handlers = InventoryHandlers(service.database, service.peers)
    service.serve(InventoryApi(handlers), inventory_pb2.DESCRIPTOR.services_by_name["InventoryService"], ACCESS)
    service.consume("catalog-copy", events.CATALOGUE)
    service.consume("saga", events.saga(handlers, service.settings.saga_hold_seconds))
    service.every(service.settings.reservation_sweep_seconds, handlers.release_expired, "the reservation sweep")
    await service.run()


if __name__ == "__main__":
    server.run(main)
