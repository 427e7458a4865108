"""Promo code redemption against a real PostgreSQL: a code with limit 1 raced by two orders."""
import asyncio
import datetime
from decimal import Decimal

import pytest

from services.kit import errors, migrations
from services.kit.db import Database
from services.kit.identity import Identity
from services.pricing import domain, store
from services.pricing.handlers import PricingHandlers

from .conftest import scratch_database

MANAGER = Identity("m-1", "manager", "m@example.ru", "t")


@pytest.fixture
async def pricing(mesh):
    with scratch_database(mesh, "itprice") as name:
        await asyncio.to_thread(migrations.upgrade, "pricing", mesh.database_url(name))
        database = Database(mesh.database_url(name), name, store.outbox, pool_size=20)
        yield PricingHandlers(database, peers=None)
        await database.close()


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
