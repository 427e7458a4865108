"""reporting's composition root."""
from autosalon.reporting.v1 import reporting_pb2
from services.kit import runtime, server
from services.peers import auth

from . import SERVICE, events, store
from .api import ACCESS, ReportingApi
from .handlers import ReportingHandlers


async def main() -> None:
    service = await runtime.start(SERVICE, store.outbox, store.ReportingRepository, auth.TRUST)
    handlers = ReportingHandlers(service.database, service.settings.time_zone)
    service.serve(ReportingApi(handlers), reporting_pb2.DESCRIPTOR.services_by_name["ReportingService"], ACCESS)
    service.consume("orders", events.orders(handlers))
    service.consume("stock", events.stock(handlers))
    service.consume("staff", events.staff(handlers))
    service.consume("loans", events.loans(handlers))
    service.consume("insurance", events.insurance(handlers))
    service.consume("workshop", events.workshop(handlers))
    await service.run()


if __name__ == "__main__":
    server.run(main)
