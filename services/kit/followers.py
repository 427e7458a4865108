"""Followers: every instance hears a stream's events itself (no durable consumer, nothing
acked), to keep what it holds in memory current: caches to evict, account states to rebuild."""
import asyncio
import contextlib
import logging
from datetime import timedelta

import nats.errors
from nats.js.api import ConsumerConfig, DeliverPolicy

from autosalon.common.v1 import common_pb2

from .bus import Bus, stop_if_cancelled
from .subjects import source_of, stream_name
from .db import now

log = logging.getLogger(__name__)


async def on_every_event(bus: Bus, subject: str, callback) -> None:
    """Calls `callback(envelope)` in every instance for every event on `subject`.

    A plain subscription, not a shared durable consumer: each instance hears each event,
    as cache eviction needs. Missing one (while disconnected) is bounded by the cache's TTL.
    """

    async def deliver(message) -> None:
        callback(common_pb2.EventEnvelope.FromString(message.data))

    subscription = await bus.nc.subscribe(subject, cb=deliver)
    try:
        await asyncio.Event().wait()
    finally:
        await subscription.unsubscribe()


async def follow_from(bus: Bus, subject: str, since: timedelta, callback) -> None:
    """Calls `callback(envelope)` in this instance for every event on `subject` from `since`
    ago on, then for each new one as it comes, in the stream's order: the state an instance
    rebuilds in memory when it starts (no durable consumer, nothing acked). The server-side
    consumer is ephemeral and a NATS restart drops it: after a reconnect this subscribes
    again, just after the last event it saw."""
    after_sequence = None
    while True:
        if after_sequence is None:
            start = ConsumerConfig(deliver_policy=DeliverPolicy.BY_START_TIME,
                                   opt_start_time=(now() - since).isoformat().replace("+00:00", "Z"))
        else:
            start = ConsumerConfig(deliver_policy=DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=after_sequence + 1)
        subscription = await _ordered_subscription(bus, subject, start)
        reconnects = bus.reconnects
        try:
            while bus.reconnects == reconnects:
                try:
                    message = await subscription.next_msg(timeout=1.0)
                except nats.errors.TimeoutError:
                    continue
                finally:
                    stop_if_cancelled()
                after_sequence = message.metadata.sequence.stream
                callback(common_pb2.EventEnvelope.FromString(message.data))
        finally:
            with contextlib.suppress(Exception):  # a subscription of a connection gone already
                await subscription.unsubscribe()


async def _ordered_subscription(bus: Bus, subject: str, start: ConsumerConfig):
    while True:
        try:
            return await bus.js.subscribe(subject, stream=stream_name(source_of(subject)), ordered_consumer=True,
                                          config=start)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            log.warning("cannot follow %s yet: %s", subject, error)
            await asyncio.sleep(1.0)
