"""sales' event store against a real PostgreSQL: append-only history, optimistic concurrency,
saga reports lined up on one order."""
import asyncio
import uuid

import pytest
import sqlalchemy as sa

from services.kit import errors
from services.kit.identity import Identity
from services.sales import domain, store
from services.sales.handlers import SalesHandlers

from .conftest import migrated_database

BUYER = Identity(str(uuid.uuid4()), "client", "b@example.ru", "t")


@pytest.fixture
async def sales(mesh):
    async with migrated_database(mesh, "sales", store.outbox) as database:
        yield SalesHandlers(database, peers=None)


async def _new_order(sales: SalesHandlers) -> uuid.UUID:
    order_id = uuid.uuid4()
    created = ("created", {
        "id": str(order_id), "customer": BUYER.user_name, "vehicle": "vehicles/v", "trim": "models/m/trims/t",
        "vehicle_title": "Lada Vesta", "promo_code": "SPRING", "options": [], "notes": "",
        "price": {"total": {"currency_code": "RUB", "amount": "1000000.00"}}})
    async with sales.database.unit_of_work() as uow:
        await sales._append(uow, None, [created], BUYER.user_name)
    return order_id


async def test_history_is_append_only(sales):
    order_id = await _new_order(sales)
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        async with sales.database.unit_of_work() as uow:
            await uow.connection.execute(store.order_events.update().values(type="confirmed"))
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        async with sales.database.unit_of_work() as uow:
            await uow.connection.execute(store.order_events.delete())
    assert (await sales.get(BUYER, order_id)).etag == "1"


async def test_concurrent_changes_at_one_version_one_wins(sales):
    order_id = await _new_order(sales)
    results = await asyncio.gather(
        *(sales.confirm(BUYER, order_id, "1") for _ in range(5)),
        *(sales.cancel(BUYER, order_id, "1", "no") for _ in range(5)),
        return_exceptions=True)
    won = [result for result in results if not isinstance(result, Exception)]
    lost = [result for result in results if isinstance(result, Exception)]
    assert len(won) == 1
    assert all(isinstance(error, (errors.Conflict, errors.FailedPrecondition)) for error in lost)
    history = await sales.history(BUYER, order_id)
    assert [event.version for event in history] == [1, 2]


async def test_saga_reports_on_one_order_line_up_instead_of_conflicting(sales):
    order_id = await _new_order(sales)
    await sales.confirm(BUYER, order_id, "")
    order_name = f"orders/{order_id}"

    async def report(decide, actor):
        async with sales.database.unit_of_work() as uow:
            await sales.follow(uow, order_name, actor, decide)

    await asyncio.gather(report(domain.vehicle_reserved, "inventory"),
                         report(domain.promo_code_redeemed, "pricing"),
                         report(domain.vehicle_reserved, "inventory"))
    order = await sales.get(BUYER, order_id)
    assert order.ready_for_payment and order.etag == "4"
    async with sales.database.unit_of_work() as uow:
        published = list(await uow.connection.execute(sa.select(store.outbox.c.subject).order_by(store.outbox.c.seq)))
    # The saga's own progress is stored, not published: only created and confirmed went out.
    assert [row.subject.split(".", 2)[2] for row in published] == ["order.created", "order.confirmed"]


async def test_reports_about_unknown_orders_are_ignored(sales):
    async with sales.database.unit_of_work() as uow:
        await sales.follow(uow, f"orders/{uuid.uuid4()}", "inventory", domain.vehicle_reserved)
        await sales.follow(uow, "not-an-order", "inventory", domain.vehicle_reserved)
