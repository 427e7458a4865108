"""notification's records against a real PostgreSQL: an event delivered twice, or applied again
past the consumer's own record of it, writes its message once a channel; two instances never
take one notification; a contact's address is the newest of auth's and CRM's, its activity
auth's."""
import asyncio
import datetime
import uuid

import pytest
import sqlalchemy as sa

from autosalon.auth.v1 import auth_pb2
from autosalon.common.v1 import common_pb2
from autosalon.customer.v1 import customer_pb2
from services.kit.consumers import handle_delivery
from services.kit.db import now
from services.notification import NotificationSettings, store
from services.notification.events import accounts
from services.notification.handlers import NotificationHandlers

from .conftest import migrated_database
from .test_customer_profiles import _Message


@pytest.fixture
async def notifications(mesh):
    async with migrated_database(mesh, "notification", store.outbox, store.NotificationRepository,
                                 publishing_as="notification") as database:
        yield NotificationHandlers(database, settings=NotificationSettings())


def _user(user_id: uuid.UUID, email: str = "olga@example.ru", active: bool = True) -> auth_pb2.User:
    return auth_pb2.User(name=f"users/{user_id}", email=email, full_name="Olga", phone="+79161234567",
                         active=active)


def _registered(user_id: uuid.UUID) -> common_pb2.EventEnvelope:
    envelope = common_pb2.EventEnvelope(id=str(uuid.uuid4()), type="autosalon.auth.user.registered",
                                        source="auth", subject=f"users/{user_id}")
    envelope.data.Pack(auth_pb2.UserEvent(user=_user(user_id)))
    envelope.time.FromDatetime(now())
    return envelope


async def _rows(handlers) -> list:
    async with handlers.database.reading() as uow:
        return (await uow.connection.execute(sa.select(store.notifications))).all()


async def test_a_registration_delivered_twice_writes_one_welcome(notifications):
    envelope = _registered(uuid.uuid4())
    routes = accounts(notifications)
    for _ in range(2):
        delivery = _Message(envelope.SerializeToString())
        await handle_delivery(notifications.database, "notification-accounts", routes, delivery)
        assert delivery.acks == 1
    [welcome] = await _rows(notifications)
    assert (welcome.kind, welcome.channel, welcome.recipient) == ("welcome", "email", "olga@example.ru")


async def test_an_event_applied_again_past_the_consumers_record_still_writes_nothing_more(notifications):
    """The second guard: one notification an event and channel is the database's constraint."""
    envelope = _registered(uuid.uuid4())
    event = auth_pb2.UserEvent()
    envelope.data.Unpack(event)
    route = accounts(notifications)["autosalon.auth.user.registered"]
    for _ in range(2):
        async with notifications.database.unit_of_work() as uow:
            await route.apply(uow, event, envelope)
    assert len(await _rows(notifications)) == 1


async def test_of_two_instances_taking_one_notification_one_gets_it(notifications):
    async with notifications.database.unit_of_work() as uow:
        await notifications.account_changed(uow, _user(user_id := uuid.uuid4()), now())
        await notifications.welcome(uow, _user(user_id), uuid.uuid4())
    async with notifications.database.reading() as uow:
        [due] = await uow.repository.due(now(), 20)

    async def take():
        async with notifications.database.unit_of_work() as uow:
            return await uow.repository.take(due, now())

    taken = [row for row in await asyncio.gather(take(), take(), take()) if row is not None]
    assert len(taken) == 1 and taken[0].status == "sending" and taken[0].attempts == 1


async def test_the_newest_address_of_auth_and_crm_wins_and_only_auth_says_whether_the_account_is_active(
        notifications):
    user_id, start = uuid.uuid4(), now()
    profile = customer_pb2.Customer(user=f"users/{user_id}", full_name="Olga K.", email="olga@crm.example.ru",
                                    phone="+79990001122")

    async def contact():
        async with notifications.database.reading() as uow:
            return await uow.repository.contact(user_id)

    async with notifications.database.unit_of_work() as uow:
        await notifications.account_changed(uow, _user(user_id), start)
        await notifications.profile_changed(uow, profile, start + datetime.timedelta(seconds=2))
    assert ((found := await contact()).email, found.phone, found.active) == ("olga@crm.example.ru", "+79990001122",
                                                                              True)
    async with notifications.database.unit_of_work() as uow:
        # auth's older event, come late: its address is stale, its deactivation is not.
        await notifications.account_changed(uow, _user(user_id, "old@example.ru", active=False),
                                             start + datetime.timedelta(seconds=1))
    assert ((found := await contact()).email, found.active) == ("olga@crm.example.ru", False)
    async with notifications.database.unit_of_work() as uow:
        await notifications.profile_changed(uow, customer_pb2.Customer(full_name="Walk-in", email="w@example.ru"),
                                            start + datetime.timedelta(seconds=3))
    assert (await contact()).email == "olga@crm.example.ru", "a walk-in without an account changes no contact"
