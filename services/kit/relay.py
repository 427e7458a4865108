"""Relays the outbox to JetStream: each committed event at once, and a sweep for any left
unsent (a process that died between commit and send, NATS away); prunes the event tables."""
import asyncio
import contextlib
import functools
import logging
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY

from .bus import Bus
from .db import Database, now

log = logging.getLogger(__name__)


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


async def prune_expired(database: Database, retention: timedelta) -> None:
    """One pass of pruning: what JetStream has let go of (older than `retention`)."""
    sent, applied = await prune_event_tables(database, now() - retention)
    if sent or applied:
        log.info("pruned %d published outbox rows and %d consumed event ids", sent, applied)
