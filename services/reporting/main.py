"""reporting's composition root."""
from autosalon.reporting.v1 import reporting_pb2
from services.kit import runtime, server
from services.peers import auth

from . import SERVICE, events, store
from .api import ACCESS, ReportingApi
from .handlers import ReportingHandlers
from .rebuild import Rebuilder, guarded


async def main() -> None:
    service = await runtime.start(SERVICE, store.outbox, store.ReportingRepository, auth.TRUST)
    handlers = ReportingHandlers(service.database, service.settings.time_zone, service.settings.pdf_font)
    consumers = {"orders": events.orders(handlers), "stock": events.stock(handlers), "staff": events.staff(handlers),
                 "loans": events.loans(handlers), "insurance": events.insurance(handlers),
                 "workshop": events.workshop(handlers)}
    rebuilder = Rebuilder(service.database, service.bus, list(consumers.values()))
    service.serve(ReportingApi(handlers, rebuilder), reporting_pb2.DESCRIPTOR.services_by_name["ReportingService"],
                  ACCESS)
    for durable, routes in consumers.items():
        # A rebuild's swap holds them a moment (the swap lock).
        service.consume(durable, guarded(routes), positions=store.stream_positions)
    await service.run()


if __name__ == "__main__":
    server.run(main)
