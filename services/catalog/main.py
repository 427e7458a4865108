"""catalog's composition root."""
from autosalon.catalog.v1 import catalog_pb2, catalog_pb2_grpc
from services.kit import app, server

from . import store
from .api import ACCESS, CatalogApi
from .handlers import CatalogHandlers


async def main() -> None:
    runtime = await app.start("catalog", store.outbox)
    runtime.service.add_service(
        catalog_pb2_grpc.add_CatalogServiceServicer_to_server,
        CatalogApi(CatalogHandlers(runtime.database)),
        catalog_pb2.DESCRIPTOR.services_by_name["CatalogService"],
        ACCESS,
    )
    await runtime.service.run()


if __name__ == "__main__":
    server.run(main)
