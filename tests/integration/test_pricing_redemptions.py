"""Promo code redemption against a real PostgreSQL: a code with limit 1 raced by two orders;
a cancelled order gives its use back once and redeems nothing afterwards; a confirmation
without a code costs no unit of work."""
import asyncio
import datetime
import uuid
from decimal import Decimal

import pytest
import sqlalchemy as sa

from autosalon.common.v1 import common_pb2
from autosalon.sales.v1 import sales_pb2
from services.kit import errors
from services.kit.consumers import handle_delivery
from services.kit.idempotency import IdempotencyKey
from services.kit.identity import Identity
from services.pricing import domain, store
from services.pricing import events
from services.pricing.handlers import PricingHandlers

from ..deliveries import Delivery
from .conftest import migrated_database

MANAGER = Identity("m-1", "manager", "m@example.ru", "t")


@pytest.fixture
async def pricing(mesh):
    async with migrated_database(mesh, "pricing", store.outbox, store.PricingRepository) as database:
        yield PricingHandlers(database, peers=None)


def _code(code: str, limit: int, per_customer: int = 0) -> domain.Discount:
    return domain.Discount(
        id="", title="Race", kind=domain.FIXED, value=Decimal("10000"), valid_from=None,
        valid_until=None, scope=domain.Scope(), stackable=False, automatic=False, code=code,
        usage_limit=limit, per_customer_limit=per_customer)


async def test_limit_one_raced_by_many_orders_is_redeemed_once(pricing):
    await pricing.create_discount(MANAGER, _code("RACE1", 1))
    results = await asyncio.gather(
        *(pricing.redeem("race1", f"order-{i}", f"customers/{i}") for i in range(20)),
        return_exceptions=True)
    won = [r for r in results if not isinstance(r, Exception)]
    assert len(won) == 1
    assert all(isinstance(r, errors.ResourceExhausted) for r in results if isinstance(r, Exception))
    discount = (await pricing.list_discounts(10, ""))[0][0]
    assert discount.used_count == 1


async def test_per_customer_limit_and_idempotency(pricing):
    await pricing.create_discount(MANAGER, _code("ONCEEACH", 0, per_customer=1))
    first = await pricing.redeem("onceeach", "o1", "customers/a")
    assert await pricing.redeem("ONCEEACH", "o1", "customers/a") == first
    with pytest.raises(errors.ResourceExhausted):
        await pricing.redeem("onceeach", "o2", "customers/a")
    await pricing.redeem("onceeach", "o3", "customers/b")


async def test_expired_code_is_refused(pricing):
    past = datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc)
    code = domain.Discount(**{**_code("OLD", 0).__dict__, "valid_from": past,
                              "valid_until": past + datetime.timedelta(days=1)})
    await pricing.create_discount(MANAGER, code)
    with pytest.raises(errors.InvalidArgument):
        await pricing.redeem("old", "o1", "customers/a")


def _order_event(kind: str, order_id: str, code: str) -> common_pb2.EventEnvelope:
    envelope = common_pb2.EventEnvelope(id=str(uuid.uuid4()), type=f"autosalon.sales.order.{kind}")
    envelope.data.Pack(sales_pb2.OrderChanged(order=sales_pb2.Order(
        name=order_id, customer="customers/a", promo_code=code)))
    return envelope


async def _handle(pricing: PricingHandlers, envelope: common_pb2.EventEnvelope) -> None:
    event = sales_pb2.OrderChanged()
    envelope.data.Unpack(event)
    async with pricing.database.unit_of_work() as uow:
        await events.saga(pricing)[envelope.type].apply(uow, event, envelope)


async def _used_count(pricing: PricingHandlers) -> int:
    return (await pricing.list_discounts(10, ""))[0][0].used_count


async def _events(pricing: PricingHandlers) -> list[str]:
    async with pricing.database.reading() as uow:
        subjects = (await uow.connection.execute(
            sa.select(store.outbox.c.subject).order_by(store.outbox.c.seq))).scalars()
    return [subject.removeprefix(f"autosalon.{pricing.database.service}.") for subject in subjects]


async def test_a_cancelled_order_gives_its_use_back_once(pricing):
    await pricing.create_discount(MANAGER, _code("BACK", 1))
    await _handle(pricing, _order_event("confirmed", "orders/1", "BACK"))
    assert await _used_count(pricing) == 1
    await _handle(pricing, _order_event("cancelled", "orders/1", "BACK"))
    await _handle(pricing, _order_event("cancelled", "orders/1", "BACK"))
    assert await _used_count(pricing) == 0
    assert await _events(pricing) == ["promo_code.redeemed", "promo_code.returned"]


async def test_a_confirmation_handled_after_the_cancellation_redeems_nothing(pricing):
    """The confirmation failed once and is redelivered after the cancellation was handled."""
    await pricing.create_discount(MANAGER, _code("LATE", 1))
    await _handle(pricing, _order_event("cancelled", "orders/late", "LATE"))
    await _handle(pricing, _order_event("confirmed", "orders/late", "LATE"))
    assert await _used_count(pricing) == 0
    with pytest.raises(errors.FailedPrecondition):
        await pricing.redeem("late", "orders/late", "customers/a")
    assert await _events(pricing) == []
    await pricing.redeem("late", "orders/other", "customers/b")
    assert await _used_count(pricing) == 1


async def test_a_confirmation_racing_the_cancellation_waits_for_it(pricing):
    await pricing.create_discount(MANAGER, _code("RACED", 1))
    async with pricing.database.unit_of_work() as uow:
        await pricing.order_cancelled(uow, "orders/raced")
        confirming = asyncio.create_task(_handle(pricing, _order_event("confirmed", "orders/raced", "RACED")))
        await asyncio.sleep(0.3)
        assert not confirming.done(), "the confirmation must wait for the order's lock"
    await confirming
    assert await _used_count(pricing) == 0


async def test_retries_of_a_discount_with_one_key_create_one(pricing):
    automatic = domain.Discount(**{**_code("", 0).__dict__, "code": "", "automatic": True})
    first, *retries = await asyncio.gather(
        *(pricing.create_discount(MANAGER, automatic, idempotency_key=IdempotencyKey("autumn-sale", "the same request")) for _ in range(6)))
    assert all(retry == first for retry in retries)
    assert len((await pricing.list_discounts(10, ""))[0]) == 1
    await pricing.delete_discount(uuid.UUID(first.name.split("/")[1]))
    with pytest.raises(errors.NotFound, match="was deleted since"):
        await pricing.create_discount(MANAGER, automatic, idempotency_key=IdempotencyKey("autumn-sale", "the same request"))


async def test_only_the_order_events_that_concern_pricing_are_applied_and_recorded(pricing):
    await pricing.create_discount(MANAGER, _code("SAGA1", 0))
    for kind, code in [("confirmed", ""), ("confirmed", "SAGA1"), ("cancelled", "")]:
        delivery = Delivery(_order_event(kind, f"orders/{uuid.uuid4()}", code))
        await handle_delivery(pricing.database, "pricing.saga", events.saga(pricing), delivery)
        assert (delivery.acks, delivery.naks) == (1, 0)
    async with pricing.database.reading() as uow:
        recorded = await uow.connection.scalar(sa.select(sa.func.count()).select_from(store.consumed_events))
    assert recorded == 2, "the confirmation without a code was recorded, so it had a unit of work"
    assert await _used_count(pricing) == 1
