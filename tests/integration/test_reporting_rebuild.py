"""Rebuilding reporting's read models from the streams (a JetStream server of the test's own,
holding a scripted day of every stream reporting reads, a real PostgreSQL): the reports after a
rebuild equal those before, byte for byte, even when the tables had lost rows; the progress
counts every event; one rebuild at a time. Each consumer's position in its stream is kept in the
transaction that wrote its rows."""
import asyncio
import uuid

import pytest
import sqlalchemy as sa

from autosalon.common.v1 import common_pb2
from autosalon.reporting.v1 import reporting_pb2
from services.kit.bus import Bus
from services.kit.consumers import Route, consume
from services.kit.db import now
from services.kit.errors import FailedPrecondition
from services.kit.identity import Identity
from services.kit.subjects import source_of
from services.reporting import store
from services.reporting.events import insurance, loans, orders, staff, stock, workshop
from services.reporting.handlers import ReportingHandlers
from services.reporting.rebuild import Rebuilder, guarded

from .conftest import migrated_database
from .own_nats import own_bus
from .test_reporting_read_models import DAY, _deliver, _scripted_day, _scripted_services

ADMIN = Identity("admin-1", "admin", "admin@example.ru", "t")


@pytest.fixture
async def reporting(mesh):
    async with migrated_database(mesh, "reporting", store.outbox, store.ReportingRepository) as database:
        yield ReportingHandlers(database, "Europe/Moscow")


@pytest.fixture
async def bus(tmp_path):
    async with own_bus(tmp_path) as events:
        yield events


async def _reports(reporting) -> list[bytes]:
    day = DAY.isoformat()
    answers = [await reporting.sales_report(day, day, period, split, "", "") for period, split in (
        ("day", "brand"), ("month", "salesperson"), ("week", "model"), ("quarter", "branch"), ("day", ""))]
    answers += [await call(day, day) for call in (
        reporting.funnel_report, reporting.promotion_report, reporting.popularity_report, reporting.financing_report,
        reporting.insurance_report, reporting.workshop_report)]
    return [answer.SerializeToString(deterministic=True) for answer in answers]


async def _published(bus: Bus, events: list[tuple[str, bytes]]) -> None:
    for source in {source_of(common_pb2.EventEnvelope.FromString(data).type) for _, data in events}:
        await bus.ensure_stream(source)
    for _, data in events:
        await bus.js.publish(common_pb2.EventEnvelope.FromString(data).type, data)


def _rebuilder(reporting, bus: Bus) -> Rebuilder:
    return Rebuilder(reporting.database, bus, [route(reporting) for route in (
        orders, stock, staff, loans, insurance, workshop)])


async def test_a_rebuild_from_the_first_events_gives_the_same_reports_byte_for_byte(reporting, bus):
    day_of_orders, _ = _scripted_day(seed=11)
    services, _ = _scripted_services(seed=11)
    events = day_of_orders + services
    await _published(bus, events)
    await _deliver(reporting, events)
    before = await _reports(reporting)
    # Rows lost since (a restore gone wrong): the rebuild makes them again from the events.
    async with reporting.database.unit_of_work() as uow:
        await uow.connection.command("DELETE FROM orders WHERE status = 'completed'")
        await uow.connection.command("DELETE FROM bookings")
    assert await _reports(reporting) != before
    rebuilder = _rebuilder(reporting, bus)
    started = await rebuilder.start(ADMIN)
    with pytest.raises(FailedPrecondition):
        await rebuilder.start(ADMIN)
    rebuild_id = uuid.UUID(started.name.removeprefix("rebuilds/"))
    for _ in range(600):
        if (finished := await rebuilder.get(rebuild_id)).state != reporting_pb2.REBUILD_STATE_RUNNING:
            break
        await asyncio.sleep(0.1)
    assert finished.state == reporting_pb2.REBUILD_STATE_DONE
    assert finished.error == "" and finished.events_applied == finished.events_total == len(events)
    assert finished.requested_by == "users/admin-1" and finished.HasField("end_time")
    assert await _reports(reporting) == before


async def test_a_failed_rebuild_leaves_the_read_models_as_they_were(reporting, bus):
    events, _ = _scripted_day(seed=12)
    await _published(bus, events)
    await _deliver(reporting, events)
    before = await _reports(reporting)
    rebuilder = _rebuilder(reporting, bus)
    rebuilder.sources["nowhere"] = {"autosalon.nowhere.thing.happened": next(iter(rebuilder.sources["sales"].values()))}
    async with reporting.database.unit_of_work() as uow:
        row = await uow.repository.start_rebuild({
            "id": uuid.uuid4(), "state": "running", "events_applied": 0, "events_total": 0, "started_at": now(),
            "requested_by": "users/admin-1", "error": ""})
    await rebuilder.run(row.id)
    async with reporting.database.reading() as uow:
        failed = await uow.repository.rebuild(row.id)
    assert failed.state == "failed" and failed.error, failed
    assert await _reports(reporting) == before
    async with reporting.database.reading() as uow:
        schemas = await uow.connection.scalar(sa.text(
            "SELECT count(*) FROM information_schema.schemata WHERE schema_name = 'rebuilding'"))
    assert schemas == 0


async def _published_sequences(bus: Bus, events: list[tuple[str, bytes]]) -> dict[str, int]:
    """Each event's id -> its sequence in its stream."""
    for source in {source_of(common_pb2.EventEnvelope.FromString(data).type) for _, data in events}:
        await bus.ensure_stream(source)
    sequences = {}
    for _, data in events:
        envelope = common_pb2.EventEnvelope.FromString(data)
        sequences[envelope.id] = (await bus.js.publish(envelope.type, data)).seq
    return sequences


async def _position(reporting) -> int | None:
    async with reporting.database.reading() as uow:
        return await uow.connection.scalar(sa.select(store.stream_positions.c.sequence).where(
            store.stream_positions.c.consumer == f"{reporting.database.service}.orders"))


async def _position_while_consuming(reporting, bus, routes, wanted: int, linger: float) -> int | None:
    """The position once it reaches `wanted` (or after ten seconds) and `linger` seconds more."""
    task = asyncio.create_task(consume(reporting.database, bus, "orders", routes, positions=store.stream_positions))
    try:
        for _ in range(100):
            if await _position(reporting) == wanted:
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(linger)
        return await _position(reporting)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_each_consumers_position_in_its_stream_is_kept_with_the_rows_it_wrote(reporting, bus):
    events, _ = _scripted_day(seed=13)
    sequences = await _published_sequences(bus, events)
    routes = guarded(orders(reporting))
    ids = [common_pb2.EventEnvelope.FromString(data).id for consumer, data in events if consumer == "orders"]
    last, before_last = ids[-1], ids[-2]

    # The last event cannot be applied: its rows and its position are rolled back together.
    failing = dict(routes)
    for subject, route in routes.items():
        async def apply(uow, event, envelope, inner=route.apply):
            await inner(uow, event, envelope)
            if envelope.id == last:
                raise RuntimeError("the disk is full")
        failing[subject] = Route(route.payload, apply, route.wanted)
    assert await _position_while_consuming(reporting, bus, failing, sequences[before_last], 0.5) == sequences[
        before_last]
    assert await _position_while_consuming(reporting, bus, routes, sequences[last], 0) == sequences[last]
