"""Durable consumers: every event on a service's routes is applied once, in a unit of work
that records its id, then acked; a redelivery finds the id and changes nothing.

A service declares its routes once: `{subject: Route(payload type, apply)}`. The consumer
subscribes to exactly those subjects (JetStream filters the rest), parses each event's
payload as its route says, and hands it to `apply` inside the unit of work.
"""
import asyncio
import collections
import functools
import logging
import time
import uuid
from dataclasses import dataclass
from typing import Awaitable, Callable

import nats.errors
import sqlalchemy as sa
from google.protobuf.message import Message
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from sqlalchemy.dialects.postgresql import insert

from autosalon.common.v1 import common_pb2

from . import logs, metrics, tracing
from .bus import Bus, stop_if_cancelled
from .subjects import source_of, stream_name
from .db import Database, UnitOfWork, now
from .failures import report_failure
from .statements import Prepared

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Route:
    """What a consumer does with the events on one subject: parse the payload as `payload`,
    and `apply(uow, payload, envelope)`. An event `wanted` says asks nothing of the service is
    acked without a unit of work: applying it would change nothing, so there is nothing to
    record either."""
    payload: type[Message]
    apply: Callable[[UnitOfWork, Message, common_pb2.EventEnvelope], Awaitable[None]]
    wanted: Callable[[Message], bool] | None = None


# Subject ("autosalon.sales.order.confirmed") -> its route; all of one publishing service.
Routes = dict[str, Route]


def positions_table(metadata: sa.MetaData) -> sa.Table:
    """Where a read model keeps each of its consumers' position in its stream: the sequence of
    the last event it took, written in the transaction that wrote what the event made."""
    return sa.Table(
        "stream_positions", metadata,
        sa.Column("consumer", sa.Text, primary_key=True),
        sa.Column("stream", sa.Text, nullable=False),
        sa.Column("sequence", sa.BigInteger, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


async def consume(database: Database, bus: Bus, durable: str, routes: Routes, batch: int = 50,
                  positions: sa.Table | None = None) -> None:
    """Applies every event on the routes' subjects once, for the life of the service, as the
    durable consumer `<service>-<durable>`. Only the subjects routed are delivered at all. With
    `positions` (positions_table), the consumer's position is kept there with each event."""
    sources = {source_of(subject) for subject in routes}
    if len(sources) != 1:
        raise ValueError(f"{durable}: a consumer reads one service's stream, not {sorted(sources)}")
    source = sources.pop()
    subjects = list(routes)
    name = f"{database.service}-{durable}"
    subscription = None
    while subscription is None:
        try:
            # Created, or updated to this version's subjects when it exists from an older one.
            await bus.js.add_consumer(stream_name(source), ConsumerConfig(
                name=name,
                durable_name=name,
                ack_policy=AckPolicy.EXPLICIT,
                deliver_policy=DeliverPolicy.ALL,
                ack_wait=30,
                max_deliver=20,
                filter_subject=subjects[0] if len(subjects) == 1 else None,
                filter_subjects=subjects if len(subjects) > 1 else None,
            ))
            subscription = await bus.js.pull_subscribe_bind(durable=name, stream=stream_name(source))
        except asyncio.CancelledError:
            raise
        except Exception as error:
            log.warning("cannot subscribe %s to %s yet: %s", name, ", ".join(subjects), error)
            await asyncio.sleep(1.0)
    consumer = f"{database.service}.{durable}"
    metrics.track_consumer(consumer, subscription)
    try:
        while True:
            for message in await _next_messages(subscription, batch):
                await handle_delivery(database, consumer, routes, message, positions)
            stop_if_cancelled()
    finally:
        metrics.forget_consumer(consumer)
        await subscription.unsubscribe()


async def _next_messages(subscription, batch: int) -> list:
    """What is waiting (up to `batch`), or else the next event as soon as it comes.

    nats-py's fetch(n) holds a lingering pull open until n messages or its timeout, so one
    big fetch would delay a lone event by the whole timeout: drain with a short one, and
    wait for news with a fetch of one.
    """
    try:
        return await subscription.fetch(batch, timeout=0.05)
    except (nats.errors.TimeoutError, asyncio.TimeoutError):
        pass
    try:
        return await subscription.fetch(1, timeout=5)
    except (nats.errors.TimeoutError, asyncio.TimeoutError):
        return []


@functools.cache
def _first_delivery(consumed: sa.Table) -> Prepared:
    """Records a consumed event id, returning it only the first time. Built once per table:
    building a statement costs more CPU than sending it."""
    return Prepared(insert(consumed).on_conflict_do_nothing().returning(consumed.c.event_id))


@functools.cache
def _position_kept(positions: sa.Table) -> Prepared:
    """The consumer's position, moved on (never back: a redelivery comes with its old sequence)."""
    statement = insert(positions)
    return Prepared(statement.on_conflict_do_update(index_elements=["consumer"], set_={
        "sequence": sa.func.greatest(positions.c.sequence, statement.excluded.sequence),
        "stream": statement.excluded.stream, "updated_at": statement.excluded.updated_at}))


# Events skipped because no route knows their type, by (consumer, type): counted, never fatal.
SKIPPED: collections.Counter[tuple[str, str]] = collections.Counter()


async def handle_delivery(database: Database, consumer: str, routes: Routes, message,
                          positions: sa.Table | None = None) -> None:
    """Applies one delivered event once (recording its id), then acks; naks on failure. An
    event of a type no route knows (delivered before the consumer's subjects changed, or a
    newer publisher's) asks nothing of the service: it is acked and counted in SKIPPED."""
    envelope = common_pb2.EventEnvelope.FromString(message.data)
    logs.trace_id_var.set(envelope.trace_id)
    started, started_at, outcome = time.perf_counter(), time.time(), "skipped"
    try:
        route = routes.get(envelope.type)
        if route is None:
            if not SKIPPED[consumer, envelope.type]:
                log.warning("%s skips events of type %s: no route knows them", consumer, envelope.type)
            SKIPPED[consumer, envelope.type] += 1
            await message.ack()
            return
        event = route.payload()
        envelope.data.Unpack(event)
        if route.wanted is not None and not route.wanted(event):
            await message.ack()
            return
        consumed = database.outbox.metadata.tables["consumed_events"]
        async with database.unit_of_work() as uow:
            first_time = await uow.connection.execute(_first_delivery(consumed), {
                "consumer": consumer, "event_id": uuid.UUID(envelope.id), "consumed_at": now(),
            })
            if first_time.first() is not None:
                await route.apply(uow, event, envelope)
                outcome = "applied"
            else:
                outcome = "already applied"
            if positions is not None:
                await uow.connection.execute(_position_kept(positions), {
                    "consumer": consumer, "stream": message.metadata.stream,
                    "sequence": message.metadata.sequence.stream, "updated_at": now()})
        await message.ack()
    except asyncio.CancelledError:
        raise
    except Exception as error:
        outcome = "failed"
        report_failure(log, f"handling {envelope.type} {envelope.id} failed; it will be redelivered", error)
        await message.nak(delay=2)
    finally:
        seconds = time.perf_counter() - started
        metrics.event_handled(consumer, outcome, seconds)
        if outcome != "skipped":
            tracing.step("event", f"{envelope.type} by {consumer}", outcome, started_at, seconds)
