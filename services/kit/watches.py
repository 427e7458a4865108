"""Watches: a server-streaming call that sends a resource as it is now, then again each time it
changes, until it reaches a final state or the watch's time is up (the caller then watches
again). The kit's per-call policy (kit.server) serves such a call like any other and bounds how
many run at once.

A service has many instances, so a change is learnt from its events, not in this process: every
instance hears its service's events on one core NATS subscription (`Watches.listen`) and wakes
the watches of the resource an event names (its envelope's subject, "orders/…"). A woken watch
reads the resource again from the database, the truth, and sends it if it changed. A watch is
registered before its first read, so a change committed between that read and its event is
heard; after a reconnect to NATS (events sent meanwhile were not heard) every watch reads again.
When the instance stops, every watch ends (OK) and new ones are refused UNAVAILABLE, so that
callers watch again on another instance.
"""
import asyncio
import contextlib
from typing import AsyncIterator, Awaitable, Callable, TypeVar

from autosalon.common.v1 import common_pb2

from .bus import Bus
from .errors import Unavailable
from .server import Microservice

M = TypeVar("M")
# How often `listen` looks whether NATS was reconnected meanwhile.
RECONNECT_CHECK_SECONDS = 1.0
# How long a watch waits for the instance to hear its events before refusing (just started).
LISTENING_WAIT_SECONDS = 5.0


def served(service: Microservice, bus: Bus, subject: str, seconds: Callable[[], float],
           most: Callable[[], int]) -> "Watches":
    """The watches of `service` on the events of `subject`, heard for its life; it serves at
    most `most()` at once, each for at most `seconds()`."""
    watches = Watches(bus, subject, seconds, service.stopping)
    service.most_streams = most
    service.add_background(watches.listen)
    return watches


class Watches:
    """The watches of one instance on the events of `subject` ("autosalon.sales.order.>"); each
    lasts at most `seconds()`. `stopping` is set when the instance begins to stop."""

    def __init__(self, bus: Bus, subject: str, seconds: Callable[[], float], stopping: asyncio.Event):
        self._bus = bus
        self._subject = subject
        self._seconds = seconds
        self._stopping = stopping
        # Resource name -> the wake-up of each watch of it.
        self._watching: dict[str, set[asyncio.Event]] = {}
        self._listening = asyncio.Event()

    async def listen(self) -> None:
        """Hears the events for the life of the service (a background task)."""
        subscription = await self._bus.nc.subscribe(self._subject, cb=self._heard)
        try:
            # Once the server has the subscription, no event a watch waits for is missed.
            await self._bus.nc.flush()
            self._listening.set()
            reconnects = self._bus.reconnects
            while not self._stopping.is_set():
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), RECONNECT_CHECK_SECONDS)
                if self._bus.reconnects != reconnects:
                    reconnects = self._bus.reconnects
                    self._wake_all()
            self._wake_all()
            await asyncio.Event().wait()
        finally:
            self._listening.clear()
            with contextlib.suppress(Exception):  # the connection may be closed already
                await subscription.unsubscribe()

    async def _heard(self, message) -> None:
        if not self._watching:
            return
        name = common_pb2.EventEnvelope.FromString(message.data).subject
        for woken in self._watching.get(name, ()):
            woken.set()

    def _wake_all(self) -> None:
        for watches in self._watching.values():
            for woken in watches:
                woken.set()

    async def watch(self, name: str, read: Callable[[], Awaitable[M]], final: Callable[[M], bool]) -> AsyncIterator[M]:
        """`read()` (the resource `name` as the caller may see it; its refusal ends the watch),
        then again whenever it changed, until `final(it)` or the watch's time is up."""
        if self._stopping.is_set():
            raise Unavailable("this instance is stopping; watch again")
        woken = asyncio.Event()
        self._watching.setdefault(name, set()).add(woken)
        try:
            try:
                await asyncio.wait_for(self._listening.wait(), LISTENING_WAIT_SECONDS)
            except asyncio.TimeoutError:
                raise Unavailable("changes cannot be heard right now; watch again shortly") from None
            loop = asyncio.get_running_loop()
            ends_at = loop.time() + self._seconds()
            sent = await read()
            yield sent
            while not final(sent):
                try:
                    await asyncio.wait_for(woken.wait(), ends_at - loop.time())
                except asyncio.TimeoutError:
                    return
                if self._stopping.is_set():
                    return
                woken.clear()
                current = await read()
                if current != sent:
                    sent = current
                    yield sent
        finally:
            watches = self._watching.get(name)
            if watches is not None:
                watches.discard(woken)
                if not watches:
                    del self._watching[name]
