"""The bus through a NATS outage: one warning while it is away, one line when it is back; a
follower of a stream goes on after it; events committed meanwhile are sent when it is back."""
import asyncio
import logging
import uuid
from datetime import timedelta

import nats.errors
import sqlalchemy as sa

from autosalon.common.v1 import common_pb2
from services.kit.bus import Bus
from services.kit.subjects import stream_name
from services.kit.followers import follow_from
from services.kit.relay import relay_outbox

from .own_nats import free_port, listening, nats_server, shut_down, until


async def test_an_outage_is_reported_once_and_the_return_too(tmp_path, caplog):
    port = free_port()
    server = nats_server(port, tmp_path)
    bus = Bus(f"nats://127.0.0.1:{port}")
    try:
        assert await until(lambda: listening(port))
        await bus.connect()
        caplog.set_level(logging.INFO, logger="services.kit.bus")
        server.terminate()
        server.wait(timeout=10)
        # Several reconnection attempts fail (twice a second) while the server is away.
        await asyncio.sleep(2.0)
        server = nats_server(port, tmp_path)
        assert await until(lambda: bus.nc.is_connected and "reconnected" in caplog.text)
        nats_lines = [r for r in caplog.records if r.name == "services.kit.bus" and r.message.startswith("nats:")]
        assert [r.levelname for r in nats_lines] == ["WARNING", "INFO"], [r.message for r in nats_lines]
        assert not any(r.exc_info for r in caplog.records)
    finally:
        await shut_down(None, bus, server)


async def test_a_follower_goes_on_after_a_nats_restart(tmp_path):
    """The account states every service keeps: a restart of NATS drops the follower's ephemeral
    consumer, and the events after it must still arrive, none twice."""
    port = free_port()
    server = nats_server(port, tmp_path)
    bus = Bus(f"nats://127.0.0.1:{port}")
    heard = []
    follower = None
    try:
        assert await until(lambda: listening(port))
        await bus.connect()
        await bus.ensure_stream("itfollow")

        async def publish(note: str) -> None:
            envelope = common_pb2.EventEnvelope(id=str(uuid.uuid4()), subject=note)
            await bus.js.publish("autosalon.itfollow.thing.happened", envelope.SerializeToString())

        await publish("before")
        follower = asyncio.create_task(follow_from(
            bus, "autosalon.itfollow.>", timedelta(minutes=5),
            lambda envelope: heard.append(envelope.subject)))
        assert await until(lambda: heard == ["before"])
        server.terminate()
        server.wait(timeout=10)
        server = nats_server(port, tmp_path)
        assert await until(lambda: bus.nc.is_connected)
        for _ in range(20):  # JetStream takes a moment to load its streams again
            try:
                await publish("after the restart")
                break
            except nats.errors.Error:
                await asyncio.sleep(0.5)
        assert await until(lambda: heard == ["before", "after the restart"]), heard
    finally:
        await shut_down(follower, bus, server)


async def test_events_committed_while_nats_is_away_are_sent_once_it_is_back(tmp_path, scratch):
    """The relay cannot send at commit: the rows stay unsent, and a sweep sends them when
    NATS is back, each once."""
    port = free_port()
    server = nats_server(port, tmp_path)
    bus = Bus(f"nats://127.0.0.1:{port}")
    relay = None
    try:
        assert await until(lambda: listening(port))
        await bus.connect()
        relay = asyncio.create_task(relay_outbox(scratch.database, bus, sweep_every=0.2, sweep_after=1))
        await asyncio.sleep(0.5)
        server.terminate()
        server.wait(timeout=10)
        for note in ("first", "second"):
            async with scratch.database.unit_of_work() as uow:
                await uow.emit("thing.happened", f"things/{note}", common_pb2.EventEnvelope())
        await asyncio.sleep(1.0)
        server = nats_server(port, tmp_path)

        async def stream_has_both() -> bool:
            try:
                info = await bus.js.stream_info(stream_name(scratch.service))
            except nats.errors.Error:
                return False
            return info.state.messages == 2

        for _ in range(150):
            if await stream_has_both():
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(1.5)  # a sweep or two more: nothing is sent again
        assert await stream_has_both()
        async with scratch.database.reading() as uow:
            unsent = await uow.connection.scalar(sa.select(sa.func.count()).select_from(scratch.outbox)
                                                 .where(scratch.outbox.c.published_at.is_(None)))
        assert unsent == 0
    finally:
        await shut_down(relay, bus, server)
