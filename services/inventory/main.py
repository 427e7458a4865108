"""inventory's composition root."""
import os

from autosalon.inventory.v1 import inventory_pb2
from services.kit import app, bus, server

from . import store
from .api import ACCESS, InventoryApi
from .events import apply_catalog_event, expire_reservations, on_order_event
from .handlers import InventoryHandlers


async def main() -> None:
    runtime = await app.start("inventory", store.outbox)
    handlers = InventoryHandlers(runtime.database, runtime.peers)
    service = runtime.service
    service.add_service(
        InventoryApi(handlers),
        inventory_pb2.DESCRIPTOR.services_by_name["InventoryService"],
        ACCESS,
    )
    service.add_background(lambda: bus.consume(
        runtime.database, runtime.bus, store.consumed_events, "catalog",
        "autosalon.catalog.>", "catalog-copy", apply_catalog_event))
    saga_hold_seconds = int(os.environ.get("AUTOSALON_SAGA_HOLD_SECONDS", "1800"))
    service.add_background(lambda: bus.consume(
        runtime.database, runtime.bus, store.consumed_events, "sales",
        tuple(f"autosalon.sales.order.{kind}" for kind in ("confirmed", "cancelled", "paid")),
        "saga", on_order_event(handlers, saga_hold_seconds)))
    sweep_seconds = float(os.environ.get("AUTOSALON_RESERVATION_SWEEP_SECONDS", "5"))
    service.add_background(lambda: expire_reservations(handlers, sweep_seconds))
    await service.run()


if __name__ == "__main__":
    server.run(main)
