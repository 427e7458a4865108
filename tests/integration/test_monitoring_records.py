"""Log records from a service to monitoring, against a real JetStream (a server of the test's
own) and a real PostgreSQL: the kit's shipper publishes its queued batch as an event, the
consumer path keeps it, and the records are found by level, text (full-text search) and trace,
a trace's steps in time order; and the services' checks, read from the test mesh's Consul."""
import asyncio
import logging

import pytest

from autosalon.monitoring.v1 import monitoring_pb2
from services.kit import logs
from services.kit.consumers import handle_delivery
from services.kit.errors import NotFound
from services.kit.log_shipping import LogShipper
from services.kit.registry import Consul
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


@pytest.fixture
async def checks_kept(mesh):
    """Monitoring's checks pass over the test mesh's own Consul, into a scratch database; the
    services whose checks it wrote, pass by pass."""
    async with migrated_database(mesh, "monitoring", store.outbox, store.MonitoringRepository) as database:
        consul = Consul(mesh.consul_addr, mesh.consul_acl_token)
        handlers = MonitoringHandlers(database, consul, ["sales", "catalog", "nobody"])
        written: list[str] = []
        original = store.MonitoringRepository.see_checks

        async def see_checks(repository, service, rows):
            written.append(service)
            await original(repository, service, rows)

        store.MonitoringRepository.see_checks = see_checks
        try:
            yield handlers, written
        finally:
            store.MonitoringRepository.see_checks = original
            await consul.close()


async def _kept_and_in_consul(handlers: MonitoringHandlers, service: str) -> tuple[set, set]:
    """(instance, check, status) of `service`'s checks as monitoring keeps them, and as Consul has them."""
    kept = {(instance.id, check.name, check.status) for listed in (await handlers.service_health()).services
            if listed.name == service for instance in listed.instances for check in instance.checks}
    consul = {(check["ServiceID"], check["Name"], check["Status"]) for check in await handlers.consul.every_check()
              if check["ServiceName"] == service}
    return kept, consul


async def test_the_checks_pass_writes_only_what_changed_since_it_was_kept(checks_kept):
    handlers, written = checks_kept
    await handlers.watch_checks()
    # A service with no instance has nothing to keep, and nothing kept: nothing to write.
    assert sorted(written) == ["catalog", "sales"]
    kept, consul = await _kept_and_in_consul(handlers, "sales")
    assert kept == consul and consul
    written.clear()
    await handlers.watch_checks()
    assert written == []
    async with handlers.database.unit_of_work() as uow:
        await uow.connection.execute(store.check_states.update().where(store.check_states.c.service == "sales")
                                     .values(status="tampered"))
    await handlers.watch_checks()
    assert written == ["sales"]
    kept, consul = await _kept_and_in_consul(handlers, "sales")
    assert kept == consul
