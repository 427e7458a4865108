"""overview's composition root."""
from autosalon.overview.v1 import overview_pb2
from services.kit import runtime, server
from services.kit.manifest import every_service
from services.peers import auth

from . import SERVICE, store
from .api import ACCESS, OverviewApi
from .handlers import OverviewHandlers


async def main() -> None:
    service = await runtime.start(SERVICE, store.outbox, store.OverviewRepository, auth.TRUST)
    # Every service the mesh runs, by its manifest: one that is not registered is still named.
    handlers = OverviewHandlers(service.peers, list(every_service()), service.settings)
    service.serve(OverviewApi(handlers), overview_pb2.DESCRIPTOR.services_by_name["OverviewService"], ACCESS)
    await service.run()


if __name__ == "__main__":
    server.run(main)
