"""Profiles from auth's registrations: a redelivered event creates nothing twice."""
import asyncio
import uuid

import pytest
import sqlalchemy as sa

from autosalon.auth.v1 import auth_pb2
from autosalon.common.v1 import common_pb2
from services.customer import store
from services.customer.events import on_user_registered
from services.customer.handlers import CustomerHandlers
from services.kit import migrations
from services.kit.bus import handle_delivery
from services.kit.db import Database

from .conftest import scratch_database


class _Message:
    """What a JetStream delivery looks like to the consumer."""

    def __init__(self, data: bytes):
        self.data = data
        self.acks = 0

    async def ack(self):
        self.acks += 1

    async def nak(self, delay=None):
        raise AssertionError("the event should have been applied")


@pytest.fixture
async def customers(mesh):
    with scratch_database(mesh, "itcust") as name:
        await asyncio.to_thread(migrations.upgrade, "customer", mesh.database_url(name))
        database = Database(mesh.database_url(name), "customer", store.outbox)
        yield CustomerHandlers(database)
        await database.close()


def _registered(user_id: uuid.UUID) -> bytes:
    envelope = common_pb2.EventEnvelope(
        id=str(uuid.uuid4()), type="autosalon.auth.user.registered", source="auth",
        subject=f"users/{user_id}")
    envelope.data.Pack(auth_pb2.UserEvent(user=auth_pb2.User(
        name=f"users/{user_id}", email="olga@example.ru", full_name="Olga", phone="+79161234567")))
    return envelope.SerializeToString()


async def _count(handlers) -> int:
    async with handlers.database.unit_of_work() as uow:
        return await uow.connection.scalar(sa.select(sa.func.count()).select_from(store.customers))


async def test_redelivered_registration_creates_one_profile(customers):
    user_id = uuid.uuid4()
    apply = on_user_registered(customers)
    first, again = _Message(_registered(user_id)), None
    await handle_delivery(customers.database, store.consumed_events, "customer.registered-users", apply, first)
    again = _Message(first.data)
    await handle_delivery(customers.database, store.consumed_events, "customer.registered-users", apply, again)
    assert first.acks == again.acks == 1
    assert await _count(customers) == 1


async def test_a_second_event_for_the_same_account_changes_nothing(customers):
    """Another event id (e.g. auth re-publishing) for an account that has a profile."""
    user_id = uuid.uuid4()
    apply = on_user_registered(customers)
    for _ in range(2):
        await handle_delivery(customers.database, store.consumed_events, "customer.registered-users", apply,
                      _Message(_registered(user_id)))
    assert await _count(customers) == 1
