"""What auth listens to: its own user changes, so every instance evicts its user cache.

(It publishes autosalon.auth.user.registered / updated / deactivated, each a UserEvent:
see convert.user_event and the handlers.)"""
import uuid

from services.kit import bus
from services.kit.cache import ExpiringCache


async def evict_changed_users(events: bus.Bus, users: ExpiringCache) -> None:
    await bus.on_every_event(
        events, "autosalon.auth.user.>",
        lambda envelope: users.evict(uuid.UUID(envelope.subject.removeprefix("users/"))),
    )
