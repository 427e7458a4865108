"""catalog's composition root."""
from autosalon.catalog.v1 import catalog_pb2
from services.kit import app, bus, server

from . import store
from .api import ACCESS, CatalogApi
from .handlers import CatalogHandlers


async def main() -> None:
    runtime = await app.start("catalog", store.outbox)
    handlers = CatalogHandlers(runtime.database)
    runtime.service.add_service(
        CatalogApi(handlers, runtime.config.public_cache_seconds),
        catalog_pb2.DESCRIPTOR.services_by_name["CatalogService"],
        ACCESS,
    )
    # Another instance changed the catalogue: our cached answers are stale.
    runtime.service.add_background(lambda: bus.on_every_event(
        runtime.bus, "autosalon.catalog.>", lambda envelope: handlers.reads.clear()))
    await runtime.service.run()


if __name__ == "__main__":
    server.run(main)
