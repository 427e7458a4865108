"""What notification consumes so far: auth's account events, for where messages go and the
welcome of a registration."""
import datetime
import uuid

from autosalon.auth.v1 import auth_pb2
from autosalon.common.v1 import common_pb2
from services.kit.consumers import Route, Routes
from services.kit.db import UnitOfWork

from .handlers import NotificationHandlers


def accounts(handlers: NotificationHandlers) -> Routes:
    async def changed(uow: UnitOfWork, event: auth_pb2.UserEvent, envelope: common_pb2.EventEnvelope) -> None:
        await handlers.account_changed(uow, event.user, envelope.time.ToDatetime(tzinfo=datetime.timezone.utc))

    async def registered(uow: UnitOfWork, event: auth_pb2.UserEvent, envelope: common_pb2.EventEnvelope) -> None:
        await changed(uow, event, envelope)
        await handlers.welcome(uow, event.user, uuid.UUID(envelope.id))

    route = Route(auth_pb2.UserEvent, changed)
    return {"autosalon.auth.user.registered": Route(auth_pb2.UserEvent, registered),
            "autosalon.auth.user.updated": route, "autosalon.auth.user.deactivated": route}
