"""pricing's composition root."""
from autosalon.pricing.v1 import pricing_pb2, pricing_pb2_grpc
from services.kit import app, server

from . import store
from .api import ACCESS, PricingApi
from .handlers import PricingHandlers


async def main() -> None:
    runtime = await app.start("pricing", store.outbox)
    runtime.service.add_service(
        pricing_pb2_grpc.add_PricingServiceServicer_to_server,
        PricingApi(PricingHandlers(runtime.database, runtime.peers)),
        pricing_pb2.DESCRIPTOR.services_by_name["PricingService"],
        ACCESS,
    )
    await runtime.service.run()


if __name__ == "__main__":
    server.run(main)
