"""Outbox -> JetStream -> idempotent consumer, against the real PostgreSQL and NATS."""
import asyncio
import uuid
from datetime import datetime, timedelta, timezone

import nats.js.errors
import pytest
import sqlalchemy as sa

from autosalon.auth.v1 import auth_pb2
from services.kit import exclusive, followers
from services.kit.consumers import Route, consume
from services.kit.relay import prune_event_tables, relay_outbox
from services.kit.subjects import stream_name

pytestmark = pytest.mark.asyncio


async def _eventually(check, timeout=10.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await check()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


async def _stream_count(scratch) -> int:
    try:
        info = await scratch.bus.js.stream_info(stream_name(scratch.service))
    except nats.js.errors.NotFoundError:
        return 0
    return info.state.messages


async def _applied(scratch) -> list:
    async with scratch.database.unit_of_work() as uow:
        return (await uow.connection.execute(sa.select(scratch.applied))).all()


async def _emit(scratch, note: str) -> None:
    async with scratch.database.unit_of_work() as uow:
        await uow.emit("thing.happened", f"things/{note}", auth_pb2.UserEvent(
            user=auth_pb2.User(full_name=note)))


def _start_consumer(scratch):
    async def apply(uow, event, envelope):
        await uow.connection.execute(
            scratch.applied.insert().values(event_id=envelope.id, note=event.user.full_name)
        )

    return asyncio.create_task(consume(scratch.database, scratch.bus, "things", {
        f"autosalon.{scratch.service}.thing.happened": Route(auth_pb2.UserEvent, apply)}))


async def _stop(*tasks):
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


async def test_committed_event_is_relayed_and_applied_once(scratch):
    relay = asyncio.create_task(relay_outbox(scratch.database, scratch.bus))
    consumer = _start_consumer(scratch)
    try:
        await _emit(scratch, "first")
        rows = await _eventually(lambda: _applied(scratch))
        assert [row.note for row in rows] == ["first"]

        # Redeliver the very same event (as JetStream would after a lost ack), under a fresh
        # message id so the stream keeps it: the consumer must not apply it again.
        async with scratch.database.unit_of_work() as uow:
            envelope = (await uow.connection.execute(sa.select(scratch.outbox.c.envelope))).scalar_one()
        await scratch.bus.js.publish(
            f"autosalon.{scratch.service}.thing.happened", envelope,
            headers={"Nats-Msg-Id": str(uuid.uuid4())},
        )
        await _eventually(lambda: _count_is(scratch, 2))
        # Both deliveries acked (the consumer is done with them), the second changing nothing.
        await _eventually(lambda: _consumer_done(scratch, "things", delivered=2))
        assert len(await _applied(scratch)) == 1
    finally:
        await _stop(relay, consumer)


async def _consumer_done(scratch, durable: str, delivered: int) -> bool:
    """The durable consumer has been handed `delivered` messages and acked every one."""
    info = await scratch.bus.js.consumer_info(stream_name(scratch.service), f"{scratch.service}-{durable}")
    return info.delivered.stream_seq >= delivered and info.num_pending == 0 and info.num_ack_pending == 0


async def _count_is(scratch, wanted: int) -> bool:
    return await _stream_count(scratch) == wanted


async def test_two_instances_of_a_durable_consumer_share_the_events_each_applied_once(scratch):
    """Two instances subscribe as the same durable consumer: JetStream hands each event to one
    of them, and every event is applied, once."""
    relay = asyncio.create_task(relay_outbox(scratch.database, scratch.bus))
    instances = [_start_consumer(scratch), _start_consumer(scratch)]
    try:
        for number in range(30):
            await _emit(scratch, f"event {number}")
        await _eventually(lambda: _consumer_done(scratch, "things", delivered=30))
        notes = [row.note for row in await _applied(scratch)]
        assert sorted(notes) == sorted(f"event {number}" for number in range(30))
    finally:
        await _stop(relay, *instances)


async def test_a_job_run_alone_runs_in_one_instance_at_a_time(scratch):
    """kit.exclusive: while one instance's pass of a job runs, another's is skipped (None, its
    task never called); another job is not held up; once the pass ends, failed or not, the next
    one runs."""
    running, let_go = asyncio.Event(), asyncio.Event()
    passes = []

    async def held_pass():
        running.set()
        await let_go.wait()
        return "held"

    async def quick_pass():
        passes.append("quick")
        return "quick"

    async def failing_pass():
        raise RuntimeError("the pass failed")

    first = asyncio.create_task(exclusive.alone(scratch.database, "the sweep", held_pass))
    await asyncio.wait_for(running.wait(), 10)
    assert await exclusive.alone(scratch.database, "the sweep", quick_pass) is None
    assert passes == []
    assert await exclusive.alone(scratch.database, "another job", quick_pass) == "quick"
    let_go.set()
    assert await first == "held"
    with pytest.raises(RuntimeError):
        await exclusive.alone(scratch.database, "the sweep", failing_pass)
    assert await exclusive.alone(scratch.database, "the sweep", quick_pass) == "quick"


async def test_event_of_rolled_back_transaction_is_never_sent(scratch):
    with pytest.raises(RuntimeError):
        async with scratch.database.unit_of_work() as uow:
            await uow.emit("thing.happened", "things/ghost", auth_pb2.UserEvent())
            raise RuntimeError("the use case failed after emitting")
    await _emit(scratch, "real")
    relay = asyncio.create_task(relay_outbox(scratch.database, scratch.bus))
    try:
        await _eventually(lambda: _count_is(scratch, 1))
        await asyncio.sleep(0.5)
        assert await _stream_count(scratch) == 1
        async with scratch.database.unit_of_work() as uow:
            subjects = (await uow.connection.execute(sa.select(scratch.outbox.c.subject))).scalars().all()
        assert len(subjects) == 1
    finally:
        await _stop(relay)


async def test_relaying_a_row_twice_sends_it_once(scratch):
    """A relay that died after publishing but before marking the row: the next one (the
    restarted service) sends it again, and the event id as Nats-Msg-Id makes JetStream drop
    the duplicate."""
    await _emit(scratch, "once")
    relay = asyncio.create_task(relay_outbox(scratch.database, scratch.bus))
    await _eventually(lambda: _count_is(scratch, 1))
    await _stop(relay)
    async with scratch.database.unit_of_work() as uow:
        await uow.connection.execute(scratch.outbox.update().values(published_at=None))
    restarted = asyncio.create_task(relay_outbox(scratch.database, scratch.bus))
    try:
        await _eventually(lambda: _all_published(scratch))
        await asyncio.sleep(0.3)
        assert await _stream_count(scratch) == 1
    finally:
        await _stop(restarted)


async def test_a_committed_event_is_sent_at_once_and_its_row_marked_by_the_next_sweep(scratch):
    relay = asyncio.create_task(relay_outbox(scratch.database, scratch.bus, sweep_every=0.5))
    try:
        await asyncio.sleep(0.2)  # the first sweep is done: what follows is sent on commit
        await _emit(scratch, "now")
        # Well before the sweep would send it (a row is swept once 5 s old).
        await _eventually(lambda: _count_is(scratch, 1), timeout=2)
        await _eventually(lambda: _all_published(scratch), timeout=2)
        assert scratch.database.committed_events == []
    finally:
        await _stop(relay)


async def test_an_event_committed_but_never_handed_over_is_swept_up(scratch):
    """The process died between its commit and the send: the row alone says the event is
    owed, and a sweep sends it once it is older than the hand-over should ever take."""
    relay = asyncio.create_task(relay_outbox(scratch.database, scratch.bus, sweep_every=0.2, sweep_after=1))
    try:
        await asyncio.sleep(0.3)
        async with scratch.database.unit_of_work() as uow:
            await uow.emit("thing.happened", "things/orphan", auth_pb2.UserEvent())
        scratch.database.committed_events.clear()  # as if the process died before handing it over
        await _eventually(lambda: _count_is(scratch, 1), timeout=5)
        await _eventually(lambda: _all_published(scratch), timeout=2)
    finally:
        await _stop(relay)


async def _all_published(scratch) -> bool:
    async with scratch.database.unit_of_work() as uow:
        pending = await uow.connection.scalar(
            sa.select(sa.func.count()).select_from(scratch.outbox)
            .where(scratch.outbox.c.published_at.is_(None))
        )
    return pending == 0


async def test_a_new_version_with_more_subjects_updates_its_durable_consumer(scratch):
    async def ignore(uow, event, envelope):
        return None

    async def filters() -> list[str]:
        try:
            info = await scratch.bus.js.consumer_info(stream_name(scratch.service), f"{scratch.service}-things")
        except nats.js.errors.NotFoundError:
            return []
        return info.config.filter_subjects or [info.config.filter_subject]

    older = asyncio.create_task(consume(scratch.database, scratch.bus, "things", {
        f"autosalon.{scratch.service}.thing.happened": Route(auth_pb2.UserEvent, ignore)}))
    assert await _eventually(filters) == [f"autosalon.{scratch.service}.thing.happened"]
    await _stop(older)
    wanted = [f"autosalon.{scratch.service}.thing.happened", f"autosalon.{scratch.service}.thing.undone"]
    newer = asyncio.create_task(consume(scratch.database, scratch.bus, "things", {
        subject: Route(auth_pb2.UserEvent, ignore) for subject in wanted}))
    try:
        assert await _eventually(lambda: _filters_are(filters, wanted))
    finally:
        await _stop(newer)


async def _filters_are(filters, wanted: list[str]) -> bool:
    return sorted(await filters()) == sorted(wanted)


async def test_old_published_rows_and_consumed_ids_are_pruned_unsent_ones_kept(scratch):
    old, recent = datetime.now(timezone.utc) - timedelta(days=40), datetime.now(timezone.utc)
    async with scratch.database.unit_of_work() as uow:
        for created, published in ((old, old), (old, None), (recent, recent)):
            await uow.connection.execute(scratch.outbox.insert().values(
                event_id=uuid.uuid4(), subject="autosalon.x.thing.happened", envelope=b"",
                created_at=created, published_at=published))
        for consumed_at in (old, recent):
            await uow.connection.execute(scratch.consumed.insert().values(
                consumer="x.things", event_id=uuid.uuid4(), consumed_at=consumed_at))
    assert await prune_event_tables(scratch.database, recent - timedelta(days=30)) == (1, 1)
    async with scratch.database.reading() as uow:
        kept = (await uow.connection.execute(sa.select(scratch.outbox.c.published_at))).scalars().all()
        ids = await uow.connection.scalar(sa.select(sa.func.count()).select_from(scratch.consumed))
    assert sorted(kept, key=lambda moment: moment is None) == [recent, None] and ids == 1


async def test_streams_keep_events_as_long_as_the_services_keep_their_ids(scratch):
    await scratch.bus.ensure_stream(scratch.service)
    info = await scratch.bus.js.stream_info(stream_name(scratch.service))
    assert info.config.max_age == 30 * 86400


async def test_an_instance_following_a_stream_hears_the_recent_past_then_each_new_event(scratch):
    """What an instance rebuilds in memory on start (account states): the events of the window
    asked for, in order, then the new ones; nothing is acked or kept for it."""
    subject = f"autosalon.{scratch.service}.thing.>"
    heard = []
    tasks = [asyncio.create_task(relay_outbox(scratch.database, scratch.bus))]
    try:
        await _emit(scratch, "before the start")
        await _eventually(lambda: _count_is(scratch, 1))
        tasks.append(asyncio.create_task(followers.follow_from(
            scratch.bus, subject, timedelta(minutes=15),
            lambda envelope: heard.append(envelope.subject))))
        await _emit(scratch, "after the start")

        async def both() -> bool:
            return heard == ["things/before the start", "things/after the start"]
        await _eventually(both)
        tasks.append(asyncio.create_task(followers.follow_from(
            scratch.bus, subject, timedelta(0),
            lambda envelope: heard.append(f"late: {envelope.subject}"))))
        await asyncio.sleep(0.5)
        assert len(heard) == 2, f"a window of nothing replays nothing: {heard}"
    finally:
        await _stop(*tasks)
