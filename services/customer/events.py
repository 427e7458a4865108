"""What customer consumes: every registered account gets a customer profile."""
import uuid

from autosalon.auth.v1 import auth_pb2
from autosalon.common.v1 import common_pb2
from services.kit.db import UnitOfWork

from .handlers import CustomerHandlers


def on_user_registered(handlers: CustomerHandlers):
    async def apply(uow: UnitOfWork, envelope: common_pb2.EventEnvelope) -> None:
        event = auth_pb2.UserEvent()
        envelope.data.Unpack(event)
        user = event.user
        await handlers.create_for_account(
            uow, uuid.UUID(user.name.removeprefix("users/")), user.full_name, user.email, user.phone)

    return apply
