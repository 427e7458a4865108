"""Domain events over NATS JetStream: the outbox relay and idempotent durable consumers.

Publishing: UnitOfWork.emit writes the event into the outbox in the same transaction as the
change; once that commits, the relay sends it with the event id as `Nats-Msg-Id`, so a resend
after a crash is dropped by JetStream's de-duplication. Consuming: the event id is recorded in
`consumed_events` in the same transaction as the handler's change, then the message is acked;
a redelivery finds the id and changes nothing.
"""
import asyncio
import contextlib
import functools
import logging
import uuid
from datetime import datetime, timedelta
from typing import Awaitable, Callable

import nats
import nats.errors
import nats.js.errors
import sqlalchemy as sa
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, StreamConfig
from sqlalchemy.dialects.postgresql import ARRAY, insert

from autosalon.common.v1 import common_pb2

from . import logs
from .db import Database, Prepared, UnitOfWork, now, report_failure

log = logging.getLogger(__name__)

Handler = Callable[[UnitOfWork, common_pb2.EventEnvelope], Awaitable[None]]
# Whether an event asks anything of the consumer at all (see consume).
Relevance = Callable[[common_pb2.EventEnvelope], bool]


def payload(envelope: common_pb2.EventEnvelope, message_class):
    """The event's protobuf payload, as the given message class."""
    message = message_class()
    envelope.data.Unpack(message)
    return message


def stream_name(service: str) -> str:
    return f"AUTOSALON_{service.upper()}"


class Bus:
    def __init__(self, url: str, retention_days: int = 30):
        self._url = url
        self._retention_days = retention_days
        self.nc: nats.NATS | None = None
        self.js = None
        self._trouble_reported = False
        # Counted for the followers of a stream, whose server-side consumers may be gone.
        self.reconnects = 0

    async def connect(self) -> None:
        self.nc = await nats.connect(
            self._url, name="autosalon", max_reconnect_attempts=-1, reconnect_time_wait=0.5,
            error_cb=self._on_error, disconnected_cb=self._on_disconnect,
            reconnected_cb=self._on_reconnect,
        )
        self.js = self.nc.jetstream()

    # While NATS is away the client retries twice a second: one line says so (nats-py's default
    # is a traceback a retry), and one says when it is back.
    def _report_trouble(self, what: str) -> None:
        if not self._trouble_reported:
            self._trouble_reported = True
            log.warning("nats: %s; reconnecting", what)

    async def _on_error(self, error: Exception) -> None:
        self._report_trouble(f"{type(error).__name__}: {error}")

    async def _on_disconnect(self) -> None:
        if self.nc is None or not self.nc.is_closed:  # closed: our own close, at shutdown
            self._report_trouble("disconnected")

    async def _on_reconnect(self) -> None:
        self._trouble_reported = False
        self.reconnects += 1
        log.info("nats: reconnected")

    async def ensure_stream(self, service: str) -> None:
        """The stream of one publishing service; created by whoever needs it first."""
        config = StreamConfig(
            name=stream_name(service),
            subjects=[f"autosalon.{service}.>"],
            duplicate_window=600.0,
            max_age=self._retention_days * 86400.0,
        )
        try:
            await self.js.add_stream(config)
        except nats.js.errors.BadRequestError:
            await self.js.update_stream(config)

    async def close(self) -> None:
        if self.nc is not None and not self.nc.is_closed:
            await self.nc.drain()


async def relay_outbox(
    database: Database, bus: Bus, sweep_every: float = 1.0, sweep_after: float = 5.0
) -> None:
    """Sends the outbox's events; runs for the life of the service.

    Each unit of work hands its events over once it has committed, and they are sent at
    once, in commit order; their rows are marked sent by the next sweep, a second later, in
    one statement for all of them. The sweep also sends, oldest first, the rows no one sent
    within `sweep_after` seconds: a process that died between commit and send, NATS away.
    The first sweep takes every unsent row (the instance has just started; what it committed
    before is its previous life's). Several instances may sweep at once: FOR UPDATE SKIP
    LOCKED gives each row to one of them, and a row sent twice is dropped by JetStream.
    """
    await bus.ensure_stream(database.service)
    loop = asyncio.get_running_loop()
    sent: list[int] = []
    next_sweep, unsent_for = loop.time(), 0.0
    while True:
        # Cleared before looking: a commit from now on sets it again, and one before is seen.
        database.outbox_signal.clear()
        try:
            await _send_committed(database, bus, sent)
            if loop.time() >= next_sweep:
                swept = await _sweep(database, bus, sent, now() - timedelta(seconds=unsent_for))
                sent.clear()
                unsent_for = sweep_after
                next_sweep = loop.time() + (0 if swept == RELAY_BATCH else sweep_every)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            log.warning("outbox relay failed, retrying: %s", error)
            await asyncio.sleep(sweep_every)
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(database.outbox_signal.wait(), max(0.0, next_sweep - loop.time()))


RELAY_BATCH = 200


async def _send_committed(database: Database, bus: Bus, sent: list[int]) -> None:
    """Publishes the events committed since the last look, adding their seqs to `sent`. On
    a failure the rest are dropped here; their rows stay unsent, for the sweep."""
    events, database.committed_events = database.committed_events, []
    for event in events:
        await _publish(bus, event)
        sent.append(event.seq)


async def _publish(bus: Bus, row) -> None:
    """One outbox row (or its OutboxEvent) to JetStream; the event id as Nats-Msg-Id makes
    JetStream drop a second send of it."""
    await bus.js.publish(row.subject, row.envelope, headers={"Nats-Msg-Id": str(row.event_id)})


@functools.cache
def _relay_statements(outbox: sa.Table) -> tuple[sa.Update, sa.Update]:
    """(mark rows sent, claim and mark the oldest unsent rows no other relay holds). Built
    once per table: building a statement costs more CPU than sending it."""
    mark = (outbox.update().where(outbox.c.seq == sa.any_(sa.bindparam("seqs", type_=ARRAY(sa.BigInteger))))
            .values(published_at=sa.bindparam("sent_at")))
    claimed = (
        sa.select(outbox.c.seq)
        .where(outbox.c.published_at.is_(None), outbox.c.created_at < sa.bindparam("created_before"))
        .order_by(outbox.c.seq)
        .limit(RELAY_BATCH)
        .with_for_update(skip_locked=True)
    )
    claim = (
        outbox.update()
        .where(outbox.c.seq.in_(claimed.scalar_subquery()))
        .values(published_at=sa.bindparam("sent_at"))
        .returning(outbox.c.seq, outbox.c.event_id, outbox.c.subject, outbox.c.envelope)
    )
    return mark, claim


async def _sweep(database: Database, bus: Bus, sent: list[int], created_before: datetime) -> int:
    """Marks the rows sent since the last sweep, then claims and marks the unsent rows from
    before `created_before` and publishes them in order before the commit: a failed publish
    rolls the marks back, and the rows are sent again later. Returns how many it claimed."""
    mark, claim = _relay_statements(database.outbox)
    async with database.unit_of_work() as uow:
        if sent:
            await uow.connection.execute(mark, {"seqs": sent, "sent_at": now()})
        rows = (await uow.connection.execute(claim, {"created_before": created_before, "sent_at": now()})).all()
        for row in sorted(rows, key=lambda row: row.seq):
            await _publish(bus, row)
    return len(rows)


async def consume(
    database: Database,
    bus: Bus,
    consumed: sa.Table,
    source_service: str,
    subjects: str | tuple[str, ...],
    durable: str,
    handler: Handler,
    batch: int = 50,
    relevant: Relevance | None = None,
) -> None:
    """Applies every event on `subjects` once, for the life of the service. Only the events
    named are delivered at all (JetStream filters them), so the others cost nothing here.
    A delivered event `relevant` says asks nothing of this service is acked without a unit
    of work: applying it would change nothing, so there is nothing to record either."""
    consumer = f"{database.service}.{durable}"
    name = f"{database.service}-{durable}"
    subjects = (subjects,) if isinstance(subjects, str) else subjects
    subscription = None
    while subscription is None:
        try:
            await bus.ensure_stream(source_service)
            # Created, or updated to this version's subjects when it exists from an older one.
            await bus.js.add_consumer(stream_name(source_service), ConsumerConfig(
                name=name,
                durable_name=name,
                ack_policy=AckPolicy.EXPLICIT,
                deliver_policy=DeliverPolicy.ALL,
                ack_wait=30,
                max_deliver=20,
                filter_subject=subjects[0] if len(subjects) == 1 else None,
                filter_subjects=list(subjects) if len(subjects) > 1 else None,
            ))
            subscription = await bus.js.pull_subscribe_bind(durable=name, stream=stream_name(source_service))
        except asyncio.CancelledError:
            raise
        except Exception as error:
            log.warning("cannot subscribe %s to %s yet: %s", consumer, ", ".join(subjects), error)
            await asyncio.sleep(1.0)
    try:
        while True:
            for message in await _next_messages(subscription, batch):
                await handle_delivery(database, consumed, consumer, handler, message, relevant)
            _stop_if_cancelled()
    finally:
        await subscription.unsubscribe()


def _stop_if_cancelled() -> None:
    """For the loops that wait for messages: nats-py waits in a task of its own, and a
    cancellation landing just as a message (or the server's end of a pull) arrives can be
    lost there (Python 3.11's wait_for returns the message instead). The request stays
    counted on the task, so the loop honours it here rather than run on forever."""
    if asyncio.current_task().cancelling():
        raise asyncio.CancelledError


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


async def prune_event_tables(database: Database, older_than: datetime) -> tuple[int, int]:
    """Deletes published outbox rows and consumed event ids older than `older_than`: JetStream
    keeps events no longer than that, so no redelivery can need them. (outbox, consumed) counts."""
    outbox = database.outbox
    consumed = outbox.metadata.tables["consumed_events"]
    async with database.unit_of_work() as uow:
        sent = await uow.connection.execute(
            outbox.delete().where(outbox.c.published_at < older_than))
        applied = await uow.connection.execute(
            consumed.delete().where(consumed.c.consumed_at < older_than))
    return sent.rowcount, applied.rowcount


async def keep_event_tables_short(database: Database, retention_days: int, every_seconds: float = 3600) -> None:
    """Prunes the outbox and the consumed ids once an hour, for the life of the service."""
    while True:
        try:
            sent, applied = await prune_event_tables(database, now() - timedelta(days=retention_days))
            if sent or applied:
                log.info("pruned %d published outbox rows and %d consumed event ids", sent, applied)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            log.warning("pruning the event tables failed, trying again later: %s", error)
        await asyncio.sleep(every_seconds)


@functools.cache
def _first_delivery(consumed: sa.Table) -> Prepared:
    """Records a consumed event id, returning it only the first time. Built once per table:
    building a statement costs more CPU than sending it."""
    return Prepared(insert(consumed).on_conflict_do_nothing().returning(consumed.c.event_id))


async def handle_delivery(database, consumed, consumer, handler, message, relevant: Relevance | None = None) -> None:
    """Applies one delivered event once (recording its id), then acks; naks on failure."""
    envelope = common_pb2.EventEnvelope.FromString(message.data)
    logs.trace_id_var.set(envelope.trace_id)
    try:
        if relevant is not None and not relevant(envelope):
            await message.ack()
            return
        async with database.unit_of_work() as uow:
            first_time = await uow.connection.execute(_first_delivery(consumed), {
                "consumer": consumer, "event_id": uuid.UUID(envelope.id), "consumed_at": now(),
            })
            if first_time.first() is not None:
                await handler(uow, envelope)
        await message.ack()
    except asyncio.CancelledError:
        raise
    except Exception as error:
        report_failure(log, f"handling {envelope.type} {envelope.id} failed; it will be redelivered", error)
        await message.nak(delay=2)


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


async def follow_from(bus: Bus, source_service: str, subject: str, since: timedelta, callback) -> None:
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
        subscription = await _ordered_subscription(bus, source_service, subject, start)
        reconnects = bus.reconnects
        try:
            while bus.reconnects == reconnects:
                try:
                    message = await subscription.next_msg(timeout=1.0)
                except nats.errors.TimeoutError:
                    continue
                finally:
                    _stop_if_cancelled()
                after_sequence = message.metadata.sequence.stream
                callback(common_pb2.EventEnvelope.FromString(message.data))
        finally:
            with contextlib.suppress(Exception):  # a subscription of a connection gone already
                await subscription.unsubscribe()


async def _ordered_subscription(bus: Bus, source_service: str, subject: str, start: ConsumerConfig):
    while True:
        try:
            await bus.ensure_stream(source_service)
            return await bus.js.subscribe(subject, stream=stream_name(source_service), ordered_consumer=True,
                                          config=start)
        except asyncio.CancelledError:
            raise
        except Exception as error:
            log.warning("cannot follow %s yet: %s", subject, error)
            await asyncio.sleep(1.0)
