"""booking's composition root."""
from autosalon.booking.v1 import booking_pb2
from services.kit import runtime, server
from services.peers import auth

from . import SERVICE, events, store
from .api import ACCESS, BookingApi
from .handlers import BookingHandlers, Branches


async def main() -> None:
    service = await runtime.start(SERVICE, store.outbox, store.BookingRepository, auth.TRUST)
    own = service.settings
    branches = Branches(service.peers, own.branch_cache_seconds)
    handlers = BookingHandlers(service.database, service.peers, branches, own)
    service.serve(BookingApi(handlers), booking_pb2.DESCRIPTOR.services_by_name["BookingService"], ACCESS)
    service.hear("autosalon.config.branch.>", branches.heard)
    service.consume("stock", events.stock(handlers))
    service.every(own.reminder_seconds, handlers.remind, "the booking reminders")
    await service.run()


if __name__ == "__main__":
    server.run(main)
