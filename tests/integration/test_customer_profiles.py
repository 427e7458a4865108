"""Profiles from auth's registrations and purchases from sales' completed orders: a redelivered
or repeated event records nothing twice; a retried walk-in or interaction creates nothing twice."""
import asyncio
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


def _registered(user_id: uuid.UUID) -> bytes:
    envelope = common_pb2.EventEnvelope(
        id=str(uuid.uuid4()), type="autosalon.auth.user.registered", source="auth",
        subject=f"users/{user_id}")
    envelope.data.Pack(auth_pb2.UserEvent(user=auth_pb2.User(
        name=f"users/{user_id}", email="olga@example.ru", full_name="Olga", phone="+79161234567")))
    return envelope.SerializeToString()


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
