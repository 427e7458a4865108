"""inventory's composition root."""
from autosalon.inventory.v1 import inventory_pb2
from services.kit import runtime, server
from services.peers import auth

from . import SERVICE, events, store
from .api import ACCESS, InventoryApi
from .handlers import InventoryHandlers


async def main() -> None:
    service = await runtime.start(SERVICE, store.outbox, store.InventoryRepository, auth.TRUST)
    own = service.settings
    handlers = InventoryHandlers(service.database, service.peers)
    service.serve(InventoryApi(handlers), inventory_pb2.DESCRIPTOR.services_by_name["InventoryService"], ACCESS)
    service.consume("catalog-copy", events.CATALOGUE)
    # Both hot: each hold and each pause reads the setting as it is then.
    service.consume("saga", events.saga(handlers, lambda: own.saga_hold_seconds))
    service.every(lambda: own.reservation_sweep_seconds, handlers.release_expired, "the reservation sweep")
    await service.run()


if __name__ == "__main__":
    server.run(main)
