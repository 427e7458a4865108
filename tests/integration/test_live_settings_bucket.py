"""Hot settings through a real NATS key-value bucket: the values stored are read before a
service serves, each new one is applied as it is stored, a cleared one gives the start value
back, and the watch goes on after NATS restarts."""
import asyncio
from dataclasses import dataclass

import nats.errors

from services.kit import live_settings
from services.kit.bus import Bus
from services.kit.live_settings import LiveSettings
from services.kit.settings import setting

from .own_nats import free_port, listening, nats_server, shut_down, until


@dataclass(frozen=True)
class Limits:
    hold_seconds: int = setting(1800, "IT_HOLD_SECONDS", "a hot one", minimum=60, hot=True)
    label: str = setting("cold", "IT_LABEL", "not hot")


async def test_stored_values_first_then_every_change_even_after_a_nats_restart(tmp_path):
    port = free_port()
    server = nats_server(port, tmp_path)
    bus = Bus(f"nats://127.0.0.1:{port}")
    follower = None
    try:
        assert await until(lambda: listening(port))
        await bus.connect()
        live = LiveSettings("itlive", Limits())
        await live_settings.read_stored(bus, live)  # no bucket yet: nothing was ever set
        assert live.hold_seconds == 1800

        bucket = await live_settings.open_bucket(bus)
        await bucket.put("itlive.hold_seconds", live_settings.stored("600", 1))
        await bucket.put("other.hold_seconds", live_settings.stored("90", 1))
        await live_settings.read_stored(bus, live)
        assert live.hold_seconds == 600

        changes = []
        live.on_change(lambda now: changes.append(now.hold_seconds))
        follower = asyncio.create_task(live_settings.follow(bus, live))
        await bucket.put("itlive.hold_seconds", live_settings.stored("120", 2))
        assert await until(lambda: live.hold_seconds == 120, seconds=5)
        await bucket.put("itlive.hold_seconds", live_settings.stored("", 3))
        assert await until(lambda: live.hold_seconds == 1800, seconds=5)

        server.terminate()
        server.wait(timeout=10)
        server = nats_server(port, tmp_path)
        assert await until(lambda: bus.nc.is_connected)
        await _stored_once_jetstream_is_back(bus, "itlive.hold_seconds", live_settings.stored("300", 4))
        assert await until(lambda: live.hold_seconds == 300, seconds=10)
        assert changes == [120, 1800, 300]
        assert live.label == "cold"
    finally:
        await shut_down(follower, bus, server)


async def _stored_once_jetstream_is_back(bus: Bus, key: str, value: bytes) -> None:
    """JetStream answers a few seconds after the server does (it recovers its streams first)."""
    for _ in range(50):
        try:
            await (await live_settings.open_bucket(bus)).put(key, value)
            return
        except nats.errors.Error:
            await asyncio.sleep(0.2)
    raise AssertionError("JetStream did not come back")


async def test_a_value_the_service_cannot_take_is_ignored_and_the_next_one_applies(tmp_path, caplog):
    port = free_port()
    server = nats_server(port, tmp_path)
    bus = Bus(f"nats://127.0.0.1:{port}")
    follower = None
    try:
        assert await until(lambda: listening(port))
        await bus.connect()
        live = LiveSettings("itbad", Limits())
        bucket = await live_settings.open_bucket(bus)
        follower = asyncio.create_task(live_settings.follow(bus, live))
        await bucket.put("itbad.hold_seconds", live_settings.stored("5", 1))  # below its minimum
        assert await until(lambda: "not applied" in caplog.text, seconds=5)
        assert live.hold_seconds == 1800
        await bucket.put("itbad.hold_seconds", live_settings.stored("61", 2))
        assert await until(lambda: live.hold_seconds == 61, seconds=5)
    finally:
        await shut_down(follower, bus, server)
