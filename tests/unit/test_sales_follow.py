"""sales' handling of a saga report (SalesHandlers.follow) on an in-memory unit of work: the
decision is applied once, a version taken meanwhile makes it read and decide again, and a
report that keeps losing its version is refused whole, to be redelivered."""
import functools
import types
import uuid

import pytest

from services.kit import errors
from services.sales import domain, handlers

from .memory import MemoryDatabase
from .test_sales_rules import events

ORDER_ID = uuid.UUID("7d3c9c8e-8c1e-4a36-9d9e-2d8a7c1f0a11")
ORDER = f"orders/{ORDER_ID}"


class Orders:
    """An order's events in memory; `record` takes a version only while it is free, as the
    real statement does. `meanwhile` runs before each record: another writer's turn."""

    def __init__(self, *steps):
        self.stored = {ORDER_ID: events(*steps)}
        self.meanwhile = lambda: None
        self.reads = 0

    async def events(self, order_id):
        self.reads += 1
        return list(self.stored.get(order_id, []))

    async def record(self, order, event, snapshot, idempotency_key=None, announcement=None):
        self.meanwhile()
        stored = self.stored[uuid.UUID(order.id)]
        if event.version != len(stored) + 1:
            return None
        stored.append(event)
        return types.SimpleNamespace(outbox_seq=len(stored))

    def another_writer_appends(self, kind: str, data: dict) -> None:
        stored = self.stored[ORDER_ID]
        stored.append(domain.Event(len(stored) + 1, kind, data, "users/u1", stored[-1].occurred_at))


def _sales(orders: Orders) -> tuple[handlers.SalesHandlers, MemoryDatabase]:
    database = MemoryDatabase(orders, "sales")
    return handlers.SalesHandlers(database, peers=None), database


async def _follow(sales, database, decide, name=ORDER):
    async with database.unit_of_work() as uow:
        await sales.follow(uow, name, "payment", decide)


async def test_a_report_is_applied_and_announced():
    orders = Orders(("confirmed", {}), ("vehicle_reserved", {}))
    sales, database = _sales(orders)
    await _follow(sales, database, functools.partial(domain.paid, payment="payments/p1"))
    assert [event.type for event in orders.stored[ORDER_ID]][-1] == "paid"
    assert database.committed == [("order.paid", 4)]


async def test_a_report_that_no_longer_matters_writes_nothing():
    orders = Orders(("cancelled", {"reason": "changed my mind"}))
    sales, database = _sales(orders)
    await _follow(sales, database, functools.partial(domain.paid, payment="payments/p1"))
    assert len(orders.stored[ORDER_ID]) == 2 and database.committed == []


async def test_a_version_taken_meanwhile_makes_it_read_and_decide_again():
    """Payment's report loses the race to a cancellation: read again, it asks for nothing."""
    orders = Orders(("confirmed", {}), ("vehicle_reserved", {}))
    turns = iter([lambda: orders.another_writer_appends("cancelled", {"reason": "expired"})])
    orders.meanwhile = lambda: next(turns, lambda: None)()
    sales, database = _sales(orders)
    await _follow(sales, database, functools.partial(domain.paid, payment="payments/p1"))
    assert [event.type for event in orders.stored[ORDER_ID]][-1] == "cancelled"
    assert orders.reads == 2 and database.committed == []


async def test_a_report_that_keeps_losing_its_version_is_refused_for_redelivery():
    orders = Orders(("confirmed", {}))
    orders.meanwhile = lambda: orders.another_writer_appends("updated", {"notes": "again"})
    sales, database = _sales(orders)
    with pytest.raises(errors.Conflict, match="kept changing"):
        await _follow(sales, database, domain.vehicle_reserved)
    assert orders.reads == handlers.FOLLOW_ATTEMPTS and database.committed == []


@pytest.mark.parametrize("name", [f"orders/{uuid.uuid4()}", "orders/not-a-uuid", ""])
async def test_a_report_on_an_unknown_or_malformed_order_is_dropped(name):
    orders = Orders()
    sales, database = _sales(orders)
    await _follow(sales, database, domain.vehicle_reserved, name)
    assert len(orders.stored[ORDER_ID]) == 1 and database.committed == []
