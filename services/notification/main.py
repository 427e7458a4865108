"""notification's composition root."""
from autosalon.notification.v1 import notification_pb2
from services.kit import runtime, server
from services.peers import auth

from . import SERVICE, events, store
from .api import ACCESS, NotificationApi
from .channels import Channels
from .handlers import NotificationHandlers


async def main() -> None:
    service = await runtime.start(SERVICE, store.outbox, store.NotificationRepository, auth.TRUST)
    own = service.settings
    channels = Channels(own)
    handlers = NotificationHandlers(service.database, channels, own, service.peers)
    service.serve(NotificationApi(handlers), notification_pb2.DESCRIPTOR.services_by_name["NotificationService"],
                  ACCESS)
    service.consume("accounts", events.accounts(handlers))
    service.consume("account-links", events.account_links(handlers))
    service.consume("orders", events.orders(handlers))
    service.consume("bookings", events.bookings(handlers))
    service.consume("profiles", events.profiles(handlers))
    service.consume("payments", events.payments(handlers))
    service.consume("loans", events.loans(handlers))
    service.consume("policies", events.policies(handlers))
    # While a provider's breaker is open, its messages wait for their next attempt.
    service.every(own.send_seconds, handlers.send_due, "sending notifications")
    service.every(lambda: min(10.0, own.interrupted_seconds), handlers.recover_interrupted,
                  "notifications an instance left sending")
    service.on_stop(channels.close)
    await service.run()


if __name__ == "__main__":
    server.run(main)
