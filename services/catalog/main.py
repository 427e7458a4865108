"""catalog's composition root."""
from autosalon.catalog.v1 import catalog_pb2
from services.kit import runtime, server
from services.peers import auth

from . import SERVICE, store
from .api import ACCESS, CatalogApi
from .handlers import CatalogHandlers


async def main() -> None:
    service = await runtime.start(SERVICE, store.outbox, store.CatalogRepository, auth.TRUST)
    handlers = CatalogHandlers(service.database)
    service.serve(CatalogApi(handlers, service.config.public_cache_seconds),
                  catalog_pb2.DESCRIPTOR.services_by_name["CatalogService"], ACCESS)
    # Another instance changed the catalogue: our cached answers are stale.
    service.hear("autosalon.catalog.>", lambda envelope: handlers.reads.clear())
    await service.run()


if __name__ == "__main__":
    server.run(main)
