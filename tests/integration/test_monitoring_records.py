"""Log records from a service to monitoring, against a real JetStream (a server of the test's
own) and a real PostgreSQL: the kit's shipper publishes its queued batch as an event, the
consumer path keeps it, and the records are found by level, text (full-text search) and trace,
a trace's steps in time order."""
import asyncio
import logging

import pytest

from autosalon.monitoring.v1 import monitoring_pb2
from services.kit import logs
from services.kit.consumers import handle_delivery
from services.kit.errors import NotFound
from services.kit.log_shipping import LogShipper
from services.monitoring import store
from services.monitoring.events import logs_of
from services.monitoring.handlers import MonitoringHandlers

from .conftest import migrated_database
from .own_nats import own_bus


@pytest.fixture
async def monitoring(mesh):
    async with migrated_database(mesh, "monitoring", store.outbox, store.MonitoringRepository) as database:
        yield MonitoringHandlers(database)


@pytest.fixture
async def bus(tmp_path):
    async with own_bus(tmp_path) as events:
        yield events


async def test_shipped_records_are_kept_and_found_by_level_text_and_trace(monitoring, bus):
    await bus.ensure_stream("sales")
    shipper = LogShipper("sales")
    logger = logging.getLogger("services.sales.test")
    logger.handlers[:] = [shipper]
    logger.propagate = False
    logs.trace_id_var.set("trace-42")
    logger.warning("pricing answered slowly for orders/1")
    logger.error("the order could not be priced")
    logs.trace_id_var.set("trace-43")
    logger.warning("a promo code was refused")
    subscription = await bus.js.pull_subscribe("autosalon.sales.system.>", stream="AUTOSALON_SALES")
    shipping = asyncio.create_task(shipper.ship(bus))
    messages = []
    try:
        while len(messages) < 2:
            messages += await subscription.fetch(2 - len(messages), timeout=5)
    finally:
        shipping.cancel()
    assert sorted(message.subject for message in messages) == ["autosalon.sales.system.error",
                                                               "autosalon.sales.system.log"]
    for message in messages:
        await handle_delivery(monitoring.database, "monitoring.logs-sales", logs_of("sales", monitoring), message)

    records, _ = await monitoring.search(monitoring_pb2.ListLogRecordsRequest(service="sales"))
    assert [record.message for record in records] == [
        "a promo code was refused", "the order could not be priced", "pricing answered slowly for orders/1"]
    errors, _ = await monitoring.search(monitoring_pb2.ListLogRecordsRequest(min_level=monitoring_pb2.LEVEL_ERROR))
    assert [record.message for record in errors] == ["the order could not be priced"]
    found, _ = await monitoring.search(monitoring_pb2.ListLogRecordsRequest(text="priced ORDER"))
    assert [record.message for record in found] == ["the order could not be priced"]
    trace = await monitoring.trace("trace-42")
    assert [step.record.message for step in trace.steps] == [
        "pricing answered slowly for orders/1", "the order could not be priced"]
    assert trace.services == ["sales"] and trace.steps[0].since_previous_ms == 0
    assert trace.steps[1].since_previous_ms >= 0
    with pytest.raises(NotFound):
        await monitoring.trace("trace-none")
    first, token = await monitoring.search(monitoring_pb2.ListLogRecordsRequest(service="sales", page_size=2))
    rest, last = await monitoring.search(monitoring_pb2.ListLogRecordsRequest(service="sales", page_size=2,
                                                                              page_token=token))
    assert [record.name for record in first + rest] == [record.name for record in records] and token and not last
