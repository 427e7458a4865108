"""A price change lands in the history and its event reaches a consumer exactly once; a model
takes a bounded number of trims."""
import asyncio
import contextlib
import uuid
from decimal import Decimal

import pytest
import sqlalchemy as sa
from nats.js.errors import NotFoundError

from autosalon.catalog.v1 import catalog_pb2
from services.catalog import domain, store
from services.catalog.handlers import CatalogHandlers
from services.kit import bus, errors
from services.kit.consumers import Route, consume
from services.kit.identity import Identity
from services.kit.relay import relay_outbox
from services.kit.subjects import stream_name

from .conftest import migrated_database

MANAGER = Identity("m-1", "manager", "m@example.ru", "t")
SPECS = {"engine_type": "petrol", "engine_volume_l": "1.6", "power_hp": 106,
         "transmission": "manual", "drive": "front", "seats": 5}


@pytest.fixture
async def catalog(mesh):
    """catalog's real schema in a scratch database, publishing as a scratch service."""
    async with migrated_database(mesh, "catalog", store.outbox, store.CatalogRepository) as database:
        name = database.service
        events = bus.Bus(mesh.nats_url, login=mesh.nats_login)
        await events.connect()
        yield CatalogHandlers(database), events
        with contextlib.suppress(NotFoundError):  # no test event was relayed
            await events.js.delete_stream(stream_name(name))
        await events.close()


async def test_price_change_history_and_event_once(catalog):
    handlers, events = catalog
    database = handlers.database
    model = await handlers.create_model(MANAGER, domain.ModelFields(
        "Lada", "Vesta", 2025, "sedan", Decimal("1359900"), SPECS, ""))
    model_id = uuid.UUID(model.name.split("/")[1])
    changes = domain.ModelFields("", "", 0, None, Decimal("1299900.00"), {}, "")
    await handlers.update_model(MANAGER, model_id, changes, ["base_price"])

    history, _ = await handlers.price_history(model_id, 10, "")
    assert [(c.old_price.amount, c.new_price.amount, c.changed_by) for c in history] == [
        ("1359900.00", "1299900.00", "users/m-1")]

    received = []

    async def remember(uow, event, envelope):
        received.append((envelope.id, event.model, event.change.new_price.amount))

    relay = asyncio.create_task(relay_outbox(database, events))
    consumer = asyncio.create_task(consume(database, events, "prices", {
        f"autosalon.{database.service}.model.price_changed": Route(catalog_pb2.PriceChangedEvent, remember)}))
    try:
        for _ in range(100):
            if received:
                break
            await asyncio.sleep(0.05)
        assert received == [(received[0][0], model.name, "1299900.00")]
        # The same event again, as after a lost ack: applied once all the same.
        async with database.unit_of_work() as uow:
            envelope = (await uow.connection.execute(
                sa.select(store.outbox.c.envelope)
                .where(store.outbox.c.subject.like("%price_changed")))).scalar_one()
        await events.js.publish(f"autosalon.{database.service}.model.price_changed", envelope,
                                headers={"Nats-Msg-Id": str(uuid.uuid4())})

        async def both_acked() -> bool:
            info = await events.js.consumer_info(stream_name(database.service), f"{database.service}-prices")
            return info.delivered.stream_seq >= 2 and info.num_pending == 0 and info.num_ack_pending == 0

        for _ in range(100):
            if await both_acked():
                break
            await asyncio.sleep(0.05)
        assert await both_acked() and len(received) == 1
    finally:
        for task in (relay, consumer):
            task.cancel()
        await asyncio.gather(relay, consumer, return_exceptions=True)


async def test_a_model_takes_trims_up_to_its_limit(catalog):
    handlers, _ = catalog
    model = await handlers.create_model(MANAGER, domain.ModelFields(
        "Haval", "Jolion", 2025, "crossover", Decimal("2199000"), SPECS, ""))
    model_id = uuid.UUID(model.name.split("/")[1])
    for number in range(domain.MAX_TRIMS_PER_MODEL):
        await handlers.create_trim(MANAGER, model_id, domain.TrimFields(f"Trim {number}", Decimal(number), []))
    with pytest.raises(errors.FailedPrecondition):
        await handlers.create_trim(MANAGER, model_id, domain.TrimFields("One too many", Decimal("1"), []))
    assert len(await handlers.list_trims(model_id)) == domain.MAX_TRIMS_PER_MODEL



async def test_signed_in_readers_see_a_change_through_another_instance_at_once(catalog):
    """Two instances keep answers. A price change through one is in the other's next answer to
    a signed-in reader, searches included, before any event says so (none is relayed here);
    the answer it kept for anonymous visitors waits for that event."""
    first, _ = catalog
    second = CatalogHandlers(first.database)
    model = await first.create_model(MANAGER, domain.ModelFields(
        "Haval", f"J-{uuid.uuid4().hex[:6]}", 2025, "crossover", Decimal("2499000"), SPECS, ""))
    model_id = uuid.UUID(model.name.split("/")[1])
    search = domain.build_search("Haval", model.model, 0, 0, "", "", None, "", "")

    async def prices(fresh: bool) -> tuple[str, str]:
        found, _, _ = await second.list_models(search, 10, "", with_trims=False, fresh=fresh)
        return (await second.get_model(model_id, fresh)).base_price.amount, found[0].base_price.amount

    for fresh in (False, True, True):  # the second signed-in read is a kept answer
        assert await prices(fresh) == ("2499000.00", "2499000.00")
    changes = domain.ModelFields("", "", 0, None, Decimal("2399000.00"), {}, "")
    await first.update_model(MANAGER, model_id, changes, ["base_price"])
    assert await prices(fresh=True) == ("2399000.00", "2399000.00")
    assert await prices(fresh=False) == ("2499000.00", "2499000.00")
