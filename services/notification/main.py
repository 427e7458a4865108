"""notification's composition root."""
from autosalon.notification.v1 import notification_pb2
from services.kit import runtime, server
from services.peers import auth

from . import SERVICE, events, store
from .api import ACCESS, NotificationApi
from .handlers import NotificationHandlers


async def main() -> None:
    service = await runtime.start(SERVICE, store.outbox, store.NotificationRepository, auth.TRUST)
    handlers = NotificationHandlers(service.database)
    service.serve(NotificationApi(handlers), notification_pb2.DESCRIPTOR.services_by_name["NotificationService"],
                  ACCESS)
    service.consume("accounts", events.accounts(handlers))
    await service.run()


if __name__ == "__main__":
    server.run(main)
