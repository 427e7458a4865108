"""What notification consumes so far: auth's account events, for where messages go."""
import datetime

from autosalon.auth.v1 import auth_pb2
from autosalon.common.v1 import common_pb2
from services.kit.consumers import Route, Routes
from services.kit.db import UnitOfWork

from .handlers import NotificationHandlers


def accounts(handlers: NotificationHandlers) -> Routes:
    async def changed(uow: UnitOfWork, event: auth_pb2.UserEvent, envelope: common_pb2.EventEnvelope) -> None:
        await handlers.account_changed(uow, event.user, envelope.time.ToDatetime(tzinfo=datetime.timezone.utc))

    route = Route(auth_pb2.UserEvent, changed)
    return {f"autosalon.auth.user.{event}": route for event in ("registered", "updated", "deactivated")}
