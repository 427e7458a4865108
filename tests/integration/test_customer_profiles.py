"""Profiles from auth's registrations and purchases from sales' completed orders: a redelivered
or repeated event records nothing twice; a retried walk-in or interaction creates nothing twice.
A profile with an account follows the account's name, email and phone (a late, older change of
the account never overwrites a newer one) and refuses to change them itself; staff find it by
its account."""
import asyncio
import datetime
import uuid

import pytest
import sqlalchemy as sa

from autosalon.auth.v1 import auth_pb2
from autosalon.common.v1 import common_pb2
from autosalon.sales.v1 import sales_pb2
from services.customer import domain, store
from services.customer.events import accounts, purchases
from services.customer.handlers import CustomerHandlers
from services.kit.consumers import handle_delivery
from services.kit.errors import FailedPrecondition, NotFound
from services.kit.idempotency import IdempotencyKey
from services.kit.identity import Identity

from .conftest import migrated_database


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
    async with migrated_database(mesh, "customer", store.outbox, store.CustomerRepository, publishing_as="customer") as database:
        yield CustomerHandlers(database)


REGISTERED_AT = datetime.datetime(2026, 5, 4, 10, tzinfo=datetime.timezone.utc)


def _account_event(kind: str, user_id: uuid.UUID, changed_at: datetime.datetime, **account) -> bytes:
    """auth's autosalon.auth.user.<kind> of the account as `account` says it is since `changed_at`."""
    envelope = common_pb2.EventEnvelope(
        id=str(uuid.uuid4()), type=f"autosalon.auth.user.{kind}", source="auth", subject=f"users/{user_id}")
    user = auth_pb2.User(name=f"users/{user_id}", **{
        "email": "olga@example.ru", "full_name": "Olga", "phone": "+79161234567", **account})
    user.update_time.FromDatetime(changed_at)
    envelope.data.Pack(auth_pb2.UserEvent(user=user))
    return envelope.SerializeToString()


def _registered(user_id: uuid.UUID) -> bytes:
    return _account_event("registered", user_id, REGISTERED_AT)


async def _count(handlers, table=store.customers) -> int:
    async with handlers.database.reading() as uow:
        return await uow.connection.scalar(sa.select(sa.func.count()).select_from(table))


async def test_redelivered_registration_creates_one_profile(customers):
    user_id = uuid.uuid4()
    apply = accounts(customers)
    first, again = _Message(_registered(user_id)), None
    await handle_delivery(customers.database, "customer.registered-users", apply, first)
    again = _Message(first.data)
    await handle_delivery(customers.database, "customer.registered-users", apply, again)
    assert first.acks == again.acks == 1
    assert await _count(customers) == 1


async def test_a_second_event_for_the_same_account_changes_nothing(customers):
    """Another event id (e.g. auth re-publishing) for an account that has a profile."""
    user_id = uuid.uuid4()
    apply = accounts(customers)
    for _ in range(2):
        await handle_delivery(customers.database, "customer.registered-users", apply,
                      _Message(_registered(user_id)))
    assert await _count(customers) == 1


def _completed(user_id: uuid.UUID, order_id: uuid.UUID) -> bytes:
    envelope = common_pb2.EventEnvelope(
        id=str(uuid.uuid4()), type="autosalon.sales.order.completed", source="sales",
        subject=f"orders/{order_id}")
    envelope.time.GetCurrentTime()
    envelope.data.Pack(sales_pb2.OrderChanged(order=sales_pb2.Order(
        name=f"orders/{order_id}", customer=f"users/{user_id}", vehicle=f"vehicles/{uuid.uuid4()}",
        vehicle_title="Haval Jolion 2026, VIN LGWEF4A59SH000001",
        total=common_pb2.Money(currency_code="RUB", amount="2399000.00"))))
    return envelope.SerializeToString()


async def test_a_completed_order_is_one_purchase_however_often_it_is_told(customers):
    user_id, order_id = uuid.uuid4(), uuid.uuid4()
    await handle_delivery(customers.database, "customer.registered-users",
                          accounts(customers), _Message(_registered(user_id)))
    apply = purchases(customers)
    for _ in range(2):
        await handle_delivery(customers.database, "customer.purchases", apply,
                              _Message(_completed(user_id, order_id)))
    async with customers.database.reading() as uow:
        profile = await uow.repository.by_user(user_id)
        history = await uow.repository.purchases(profile.id, 10, None)
    assert (profile.purchase_count, str(profile.total_spent)) == (1, "2399000.00")
    assert [(row.order_id, str(row.total)) for row in history] == [(order_id, "2399000.00")]


async def test_orders_completed_at_once_for_one_buyer_all_count(customers):
    user_id = uuid.uuid4()
    await handle_delivery(customers.database, "customer.registered-users",
                          accounts(customers), _Message(_registered(user_id)))
    apply = purchases(customers)
    await asyncio.gather(*(handle_delivery(customers.database, "customer.purchases", apply,
                                           _Message(_completed(user_id, uuid.uuid4()))) for _ in range(4)))
    async with customers.database.reading() as uow:
        profile = await uow.repository.by_user(user_id)
    assert (profile.purchase_count, str(profile.total_spent)) == (4, "9596000.00")


async def test_a_purchase_by_an_account_without_a_profile_records_nothing(customers):
    await handle_delivery(customers.database, "customer.purchases",
                          purchases(customers), _Message(_completed(uuid.uuid4(), uuid.uuid4())))
    async with customers.database.reading() as uow:
        assert await uow.connection.scalar(sa.select(sa.func.count()).select_from(store.purchases)) == 0


MANAGER = Identity(str(uuid.uuid4()), "manager", "m@example.ru", "t")
WALK_IN = domain.Profile("Pavel Walkin", "pavel@example.ru", "+79161234567", {}, {"channels": ["sms"]}, [])


async def test_retries_of_a_walk_in_with_one_key_create_one_customer(customers):
    first, *retries = await asyncio.gather(
        *(customers.create_walk_in(MANAGER, WALK_IN, idempotency_key=IdempotencyKey("walk-in-1", "the same request")) for _ in range(8)))
    assert all(retry == first for retry in retries)
    assert await _count(customers, store.customers) == 1
    other = await customers.create_walk_in(MANAGER, WALK_IN, idempotency_key=IdempotencyKey("walk-in-2", "the same request"))
    assert other.name != first.name
    # The key is the caller's own: another manager's same key is another creation.
    colleague = Identity(str(uuid.uuid4()), "manager", "c@example.ru", "t")
    assert (await customers.create_walk_in(colleague, WALK_IN, idempotency_key=IdempotencyKey("walk-in-1", "the same request"))).name != first.name
    assert await _count(customers, store.customers) == 3


async def test_retries_of_an_interaction_with_one_key_log_it_once(customers):
    customer = await customers.create_walk_in(MANAGER, WALK_IN)
    customer_id = uuid.UUID(customer.name.split("/")[1])
    logged = [await customers.add_interaction(MANAGER, customer_id, "call", "asked about Jolion", None,
                                              idempotency_key=IdempotencyKey("call-1", "the same request")) for _ in range(3)]
    assert logged[1] == logged[0] == logged[2]
    assert await _count(customers, store.interactions) == 1
    assert (await customers.interactions(customer_id, 10, ""))[0] == [logged[0]]


async def _told(customers, *events: bytes) -> None:
    for data in events:
        await handle_delivery(customers.database, "customer.registered-users", accounts(customers), _Message(data))


async def _profile_of(customers, user_id: uuid.UUID):
    async with customers.database.reading() as uow:
        return await uow.repository.by_user(user_id)


async def _updates_announced(customers) -> int:
    async with customers.database.reading() as uow:
        return await uow.connection.scalar(sa.select(sa.func.count()).select_from(store.outbox).where(
            store.outbox.c.subject == "autosalon.customer.customer.updated"))


def _later(minutes: int) -> datetime.datetime:
    return REGISTERED_AT + datetime.timedelta(minutes=minutes)


async def test_the_profile_follows_the_accounts_changes_and_a_late_older_one_changes_nothing(customers):
    user_id = uuid.uuid4()
    await _told(customers, _registered(user_id),
                _account_event("updated", user_id, _later(2), full_name="Olga Petrova", phone="+79990001122"),
                _account_event("email_changed", user_id, _later(3), full_name="Olga Petrova", phone="+79990001122",
                               email="olga.petrova@example.ru"),
                # Sent before the two above, delivered after them.
                _account_event("updated", user_id, _later(1), full_name="Olga Old", phone="+79990000000"))
    profile = await _profile_of(customers, user_id)
    assert (profile.full_name, profile.phone, profile.email) == ("Olga Petrova", "+79990001122",
                                                                 "olga.petrova@example.ru")
    assert profile.account_updated_at == _later(3)
    assert await _updates_announced(customers) == 2


async def test_an_account_event_that_changes_nothing_announces_nothing_but_is_still_the_newest(customers):
    user_id = uuid.uuid4()
    await _told(customers, _registered(user_id), _account_event("password_changed", user_id, _later(5)))
    assert await _updates_announced(customers) == 0
    await _told(customers, _account_event("updated", user_id, _later(4), full_name="Olga Older"))
    assert (await _profile_of(customers, user_id)).full_name == "Olga"


async def test_an_account_without_a_profile_gets_none_from_its_changes(customers):
    user_id = uuid.uuid4()
    await _told(customers, _account_event("updated", user_id, _later(1), full_name="Staff Member"))
    assert await _profile_of(customers, user_id) is None
    assert await _count(customers) == 0


def _client(user_id: uuid.UUID) -> Identity:
    return Identity(str(user_id), "client", "olga@example.ru", "t")


def _changed(**fields) -> domain.Profile:
    return domain.Profile(**{"full_name": "Olga", "email": "olga@example.ru", "phone": "+79161234567",
                             "address": {}, "preferences": {"channels": ["email"]}, "tags": [], **fields})


async def test_a_profile_with_an_account_refuses_new_account_fields_and_takes_the_rest(customers):
    user_id = uuid.uuid4()
    await _told(customers, _registered(user_id))
    for caller, whose in ((_client(user_id), None), (MANAGER, (await _profile_of(customers, user_id)).id)):
        with pytest.raises(FailedPrecondition) as refused:
            await customers.update(caller, whose, _changed(phone="+79990001122", full_name="Olga K."),
                                   ["full_name", "phone"])
        assert refused.value.reason == domain.OWNED_BY_ACCOUNT
        assert refused.value.metadata == {"owner": f"users/{user_id}", "fields": "full_name,phone"}
    moved = await customers.update(_client(user_id), None, _changed(address={"city": "Kazan"}),
                                   ["full_name", "email", "phone", "address"])
    assert (moved.address.city, moved.phone, moved.user) == ("Kazan", "+79161234567", f"users/{user_id}")
    walk_in = await customers.create_walk_in(MANAGER, WALK_IN)
    renamed = await customers.update(MANAGER, uuid.UUID(walk_in.name.split("/")[1]),
                                     _changed(full_name="Pavel Renamed"), ["full_name"])
    assert renamed.full_name == "Pavel Renamed"


async def test_a_client_without_a_profile_has_no_me(customers):
    with pytest.raises(NotFound):
        await customers.update(_client(uuid.uuid4()), None, _changed(address={"city": "Kazan"}), ["address"])
    with pytest.raises(NotFound):
        await customers.get(_client(uuid.uuid4()), None)


async def test_staff_find_a_customer_by_their_account(customers):
    user_id, other_id = uuid.uuid4(), uuid.uuid4()
    await _told(customers, _registered(user_id), _registered(other_id))
    await customers.create_walk_in(MANAGER, WALK_IN)
    found, next_token, total = await customers.search("", "", "", user_id, 10, "")
    assert ([customer.user for customer in found], next_token, total) == ([f"users/{user_id}"], "", 1)
    assert await customers.search("", "", "", uuid.uuid4(), 10, "") == ([], "", 0)
