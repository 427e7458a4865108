"""sales' event store against a real PostgreSQL: append-only history, optimistic concurrency,
saga reports lined up on one order."""
import asyncio
import uuid

import pytest
import sqlalchemy as sa

from autosalon.common.v1 import common_pb2
from autosalon.inventory.v1 import inventory_pb2
from autosalon.sales.v1 import sales_pb2
from services.kit import errors
from services.kit.consumers import handle_delivery
from services.kit.identity import Identity
from services.sales import domain, events, store
from services.sales.convert import order_to_proto
from services.sales.handlers import FOLLOW_ATTEMPTS, SalesHandlers

from ..deliveries import Delivery
from .conftest import migrated_database

BUYER = Identity(str(uuid.uuid4()), "client", "b@example.ru", "t")


@pytest.fixture
async def sales(mesh):
    async with migrated_database(mesh, "sales", store.outbox, store.OrderRepository) as database:
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
    # The losers wrote nothing, their projection neither: the snapshot is the winner's.
    assert await sales.get(BUYER, order_id) == won[0] == await _fold(sales, order_id)


async def _outbox(sales: SalesHandlers) -> list:
    async with sales.database.reading() as uow:
        return (await uow.connection.execute(
            sa.select(store.outbox.c.seq, store.outbox.c.subject, store.outbox.c.envelope).order_by(store.outbox.c.seq)
        )).all()


async def test_each_published_change_is_in_the_outbox_and_handed_to_the_relay_once_committed(sales):
    order_id = await _new_order(sales)
    await sales.confirm(BUYER, order_id, "1")
    with pytest.raises(errors.Conflict):
        await sales.cancel(BUYER, order_id, "1", "a stale version writes no event either")
    rows = await _outbox(sales)
    assert [row.subject for row in rows] == [f"autosalon.{sales.database.service}.order.created",
                                             f"autosalon.{sales.database.service}.order.confirmed"]
    handed = sales.database.committed_events
    assert [(event.seq, event.subject, event.envelope) for event in handed] == [tuple(row) for row in rows]
    confirmed = sales_pb2.OrderChanged()
    common_pb2.EventEnvelope.FromString(rows[1].envelope).data.Unpack(confirmed)
    assert confirmed.order == await sales.get(BUYER, order_id)


async def test_every_change_of_an_order_is_published_for_its_watchers(sales):
    """The saga's own progress goes out too (WatchOrder's instances hear of it by its event); the
    services that take part listen to exact subjects, so none of them hears it."""
    order_id, order_name = await _confirmed_order(sales)
    await _report(sales, order_name, domain.vehicle_reserved, "inventory")
    assert [row.subject.rpartition(".")[2] for row in await _outbox(sales)] == [
        "created", "confirmed", "vehicle_reserved"]
    assert (await sales.get(BUYER, order_id)).vehicle_reserved


async def _confirmed_order(sales: SalesHandlers) -> tuple[uuid.UUID, str]:
    order_id = await _new_order(sales)
    await sales.confirm(BUYER, order_id, "")
    return order_id, f"orders/{order_id}"


async def _report(sales: SalesHandlers, order_name: str, decide, actor: str) -> None:
    """A saga report, as a consumer applies it in its unit of work."""
    async with sales.database.unit_of_work() as uow:
        await sales.follow(uow, order_name, actor, decide)


async def test_saga_reports_on_one_order_line_up_instead_of_conflicting(sales):
    order_id, order_name = await _confirmed_order(sales)
    await asyncio.gather(_report(sales, order_name, domain.vehicle_reserved, "inventory"),
                         _report(sales, order_name, domain.promo_code_redeemed, "pricing"),
                         _report(sales, order_name, domain.vehicle_reserved, "inventory"))
    order = await sales.get(BUYER, order_id)
    assert order.ready_for_payment and order.etag == "4"
    async with sales.database.unit_of_work() as uow:
        published = list(await uow.connection.execute(sa.select(store.outbox.c.subject).order_by(store.outbox.c.seq)))
    # Each change once, however often it was reported; the two reports in the order they won.
    subjects = [row.subject.split(".", 2)[2] for row in published]
    assert subjects[:2] == ["order.created", "order.confirmed"]
    assert sorted(subjects[2:]) == ["order.promo_code_redeemed", "order.vehicle_reserved"]


async def test_reports_about_unknown_orders_are_ignored(sales):
    async with sales.database.unit_of_work() as uow:
        await sales.follow(uow, f"orders/{uuid.uuid4()}", "inventory", domain.vehicle_reserved)
        await sales.follow(uow, "not-an-order", "inventory", domain.vehicle_reserved)
    async with sales.database.reading() as uow:
        for table in (store.order_events, store.orders, store.outbox):
            written = await uow.connection.scalar(sa.select(sa.func.count()).select_from(table))
            assert written == 0, f"{table.name} has {written} rows"


async def _fold(sales: SalesHandlers, order_id: uuid.UUID):
    async with sales.database.reading() as uow:
        return order_to_proto(domain.fold(await uow.repository.events(order_id)))


async def test_a_read_answers_with_the_snapshot_the_last_change_kept(sales):
    order_id = await _new_order(sales)
    await sales.confirm(BUYER, order_id, "1")
    async with sales.database.unit_of_work() as uow:
        await sales.follow(uow, f"orders/{order_id}", "inventory", domain.vehicle_reserved)
    async with sales.database.reading() as uow:
        kept = (await uow.repository.current(order_id)).snapshot
    order = await sales.get(BUYER, order_id)
    assert order.SerializeToString() == kept
    assert order == await _fold(sales, order_id) and order.vehicle_reserved and order.etag == "3"
    listed, _, _ = await sales.list_orders(BUYER, 0, "", 10, "")
    assert [each for each in listed if each.name == order.name] == [order]


async def test_an_order_without_a_snapshot_is_read_from_its_events(sales):
    """Orders last changed before snapshots were kept (migration 0002) read as before."""
    order_id = await _new_order(sales)
    await sales.confirm(BUYER, order_id, "1")
    async with sales.database.unit_of_work() as uow:
        await uow.connection.execute(store.orders.update().where(store.orders.c.id == order_id).values(snapshot=None))
    order = await sales.get(BUYER, order_id)
    assert order == await _fold(sales, order_id) and order.status == sales_pb2.ORDER_STATUS_CONFIRMED
    listed, _, _ = await sales.list_orders(BUYER, 0, "", 10, "")
    assert [each for each in listed if each.name == order.name] == [order]
    with pytest.raises(errors.NotFound):
        await sales.get(Identity(str(uuid.uuid4()), "client", "other@example.ru", "t"), order_id)


async def test_another_clients_order_is_not_found_from_its_snapshot(sales):
    order_id = await _new_order(sales)
    with pytest.raises(errors.NotFound):
        await sales.get(Identity(str(uuid.uuid4()), "client", "other@example.ru", "t"), order_id)
    await sales.delete(BUYER, order_id, "1")
    with pytest.raises(errors.NotFound):
        await sales.get(BUYER, order_id)


async def test_a_report_that_loses_its_version_to_another_reads_the_order_again(sales, monkeypatch):
    """A rival report commits between this one's read and its write: this one reads the
    order again in the same transaction and applies on top, instead of failing the event."""
    order_id, order_name = await _confirmed_order(sales)
    read_events, rivals = store.OrderRepository.events, []

    async def events_then_a_rival(repository, wanted):
        found = await read_events(repository, wanted)
        if not rivals:
            rivals.append("pricing")
            await _report(sales, order_name, domain.promo_code_redeemed, "pricing")
        return found

    monkeypatch.setattr(store.OrderRepository, "events", events_then_a_rival)
    await _report(sales, order_name, domain.vehicle_reserved, "inventory")
    history = await sales.history(BUYER, order_id)
    assert [(event.version, event.type) for event in history][2:] == [
        (3, "promo_code_redeemed"), (4, "vehicle_reserved")]
    assert (await sales.get(BUYER, order_id)).ready_for_payment


async def test_a_report_that_keeps_losing_fails_and_writes_nothing(sales, monkeypatch):
    """Bounded: past FOLLOW_ATTEMPTS the event fails (JetStream redelivers it later)."""
    order_id, order_name = await _confirmed_order(sales)
    read_events, busy = store.OrderRepository.events, []

    async def events_then_a_rival(repository, wanted):
        found = await read_events(repository, wanted)
        if not busy:
            busy.append(True)
            await _report(sales, order_name, lambda order: [("promo_code_redeemed", {})], "pricing")
            busy.clear()
        return found

    monkeypatch.setattr(store.OrderRepository, "events", events_then_a_rival)
    with pytest.raises(errors.Conflict):
        await _report(sales, order_name, domain.vehicle_reserved, "inventory")
    history = await sales.history(BUYER, order_id)
    assert len(history) == 2 + FOLLOW_ATTEMPTS
    assert "vehicle_reserved" not in [event.type for event in history]


async def test_a_reservation_that_expires_before_payment_cancels_the_order(sales):
    """inventory's vehicle.released with the reason "expired" cancels a confirmed order, saying
    why; a release for any other reason (one sales asked for) changes nothing."""
    def released(reason: str) -> Delivery:
        return Delivery(kind="autosalon.inventory.vehicle.released",
                        payload=inventory_pb2.VehicleEvent(order_id=f"orders/{order_id}", reason=reason))

    order_id = await _new_order(sales)
    await sales.confirm(BUYER, order_id, "1")
    routes = events.inventory(sales)
    for reason in ("order cancelled", "expired"):
        delivery = released(reason)
        await handle_delivery(sales.database, "sales.saga-inventory", routes, delivery)
        assert (delivery.acks, delivery.naks) == (1, 0)
        if reason != "expired":
            assert (await sales.get(BUYER, order_id)).status == sales_pb2.ORDER_STATUS_CONFIRMED
    order = await sales.get(BUYER, order_id)
    assert order.status == sales_pb2.ORDER_STATUS_CANCELLED
    assert order.cancel_reason == "the vehicle's reservation expired before payment"
