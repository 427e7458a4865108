"""What auth listens to: its own user changes, so every instance evicts its cache.

(It publishes autosalon.auth.user.registered / updated / deactivated, each a UserEvent:
see convert.user_event and the handlers.)"""
import asyncio
import uuid

from autosalon.common.v1 import common_pb2
from services.kit.bus import Bus

from .handlers import UserCache


async def evict_changed_users(bus: Bus, cache: UserCache) -> None:
    """Each instance hears every change (a plain subscription, not a shared consumer)."""

    async def evict(message) -> None:
        envelope = common_pb2.EventEnvelope.FromString(message.data)
        cache.evict(uuid.UUID(envelope.subject.removeprefix("users/")))

    subscription = await bus.nc.subscribe("autosalon.auth.user.>", cb=evict)
    try:
        await asyncio.Event().wait()
    finally:
        await subscription.unsubscribe()
