"""Reservations against a real PostgreSQL: one winner in a race, expiry released once."""
import asyncio
import dataclasses
import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from autosalon.common.v1 import common_pb2
from autosalon.inventory.v1 import inventory_pb2
from services.inventory import store
from services.inventory.handlers import InventoryHandlers
from services.kit import bus, errors, vin
from services.kit.db import now
from services.kit.relay import relay_outbox
from services.kit.subjects import stream_name

from .conftest import migrated_database


@pytest.fixture
async def inventory(mesh):
    async with migrated_database(mesh, "inventory", store.outbox, store.InventoryRepository, pool_size=30) as database:
        yield InventoryHandlers(database, peers=None)


async def _vehicle(handlers: InventoryHandlers) -> uuid.UUID:
    vehicle_id = uuid.uuid4()
    created = now()
    code = vin.example("XTAGFL110S")
    async with handlers.database.unit_of_work() as uow:
        await uow.repository.add({
            "id": vehicle_id, "vin": code, "model_id": uuid.uuid4(), "trim_id": uuid.uuid4(),
            "colour": "white", "mileage_km": 0, "condition": "new", "branch": "Moscow",
            "status": "available", "vin_facts": dataclasses.asdict(vin.decode(code)),
            "created_at": created, "updated_at": created, "created_by": "t", "updated_by": "t",
        })
    return vehicle_id


async def _events(handlers: InventoryHandlers, kind: str) -> list[bytes]:
    async with handlers.database.unit_of_work() as uow:
        return list((await uow.connection.execute(
            sa.select(store.outbox.c.envelope).where(store.outbox.c.subject.endswith(kind)))).scalars())


async def test_fifty_concurrent_reservations_one_wins(inventory):
    vehicle_id = await _vehicle(inventory)
    results = await asyncio.gather(
        *(inventory.reserve("t", vehicle_id, f"order-{i}", 0) for i in range(50)),
        return_exceptions=True)
    winners = [r for r in results if isinstance(r, inventory_pb2.Vehicle)]
    assert len(winners) == 1
    assert all(isinstance(r, errors.FailedPrecondition) for r in results if r not in winners)
    assert len(await _events(inventory, "vehicle.reserved")) == 1
    assert len(await _events(inventory, "vehicle.reservation_failed")) == 49
    # The winner asking again gets the same reservation, nothing new.
    again = await inventory.reserve("t", vehicle_id, winners[0].reservation.order_id, 0)
    assert again.reservation == winners[0].reservation
    assert len(await _events(inventory, "vehicle.reserved")) == 1


async def test_what_a_change_answers_and_announces_is_the_vehicle_as_stored(inventory):
    """Built from the row read under its lock and the values written, without reading it again."""
    vehicle_id = await _vehicle(inventory)
    for change in (lambda: inventory.reserve("t", vehicle_id, "o1", 60),
                   lambda: inventory.mark_sold("manager", vehicle_id, "o1")):
        answered = await change()
        assert answered == await inventory.get_vehicle(vehicle_id)
    reserved, sold = (await _events(inventory, "vehicle.reserved")) + (await _events(inventory, "vehicle.sold"))
    announced = [bus.payload(common_pb2.EventEnvelope.FromString(envelope), inventory_pb2.VehicleEvent).vehicle
                 for envelope in (reserved, sold)]
    assert announced[0].reservation.order_id == "o1" and announced[0].reservation.HasField("expire_time")
    assert announced[1] == answered and answered.audit.updated_by == "manager"


async def test_release_and_sale_follow_the_holder(inventory):
    vehicle_id = await _vehicle(inventory)
    await inventory.reserve("t", vehicle_id, "o1", 0)
    with pytest.raises(errors.FailedPrecondition):
        await inventory.mark_sold("t", vehicle_id, "o2")
    sold = await inventory.mark_sold("t", vehicle_id, "o1")
    assert sold.status == inventory_pb2.VEHICLE_STATUS_SOLD
    assert (await inventory.mark_sold("t", vehicle_id, "o1")).status == inventory_pb2.VEHICLE_STATUS_SOLD
    with pytest.raises(errors.FailedPrecondition):
        await inventory.release("t", vehicle_id, "o1")
    assert len(await _events(inventory, "vehicle.sold")) == 1


async def test_expired_reservation_is_released_once_and_published_once(inventory, mesh):
    vehicle_id = await _vehicle(inventory)
    await inventory.reserve("t", vehicle_id, "late-order", 60)
    async with inventory.database.unit_of_work() as uow:
        await uow.connection.execute(store.vehicles.update().values(
            reserved_until=now() - timedelta(seconds=1)))
    # Two sweepers at once (two instances): the vehicle is freed by exactly one.
    freed = await asyncio.gather(inventory.release_expired(), inventory.release_expired())
    assert sorted(freed) == [0, 1]
    vehicle = await inventory.get_vehicle(vehicle_id)
    assert vehicle.status == inventory_pb2.VEHICLE_STATUS_AVAILABLE and not vehicle.reservation.order_id
    released = await _events(inventory, "vehicle.released")
    assert len(released) == 1

    events = bus.Bus(mesh.nats_url, login=mesh.nats_login)
    await events.connect()
    relay = asyncio.create_task(relay_outbox(inventory.database, events))
    try:
        stream = stream_name(inventory.database.service)
        subject = f"autosalon.{inventory.database.service}.vehicle.released"
        for _ in range(100):
            try:
                if (await events.js.stream_info(stream, subjects_filter=subject)).state.subjects:
                    break
            except Exception:
                pass
            await asyncio.sleep(0.05)
        await asyncio.sleep(0.5)
        info = await events.js.stream_info(stream, subjects_filter=subject)
        assert info.state.subjects == {subject: 1}
        message = await events.js.get_last_msg(stream, subject)
        event = inventory_pb2.VehicleEvent()
        common_pb2.EventEnvelope.FromString(message.data).data.Unpack(event)
        assert (event.order_id, event.reason) == ("late-order", "expired")
    finally:
        relay.cancel()
        await asyncio.gather(relay, return_exceptions=True)
        await events.js.delete_stream(stream_name(inventory.database.service))
        await events.close()
