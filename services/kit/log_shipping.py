"""Every service's log records at WARNING and above (and the steps of sampled traces,
kit.tracing), shipped as events for the monitoring service: `autosalon.<service>.system.error`
for the errors and `autosalon.<service>.system.log` for the rest, each an envelope holding a
mesh.v1.LogBatch, a second at most (published straight to JetStream, not through the outbox: a record must not wait for, nor
add to, a database's troubles).

Logging never waits for NATS: a record goes into a bounded queue in memory and a background
task publishes what is queued. While NATS is away the queue fills and the oldest records are
dropped, counted (each batch carries the count so far), so that memory never grows with an
outage. The shipper's own troubles are logged by a logger it does not ship.
"""
import asyncio
import collections
import datetime
import logging
import os
import socket

from mesh.v1 import logs_pb2

from . import logs
from .bus import Bus
from .outbox import outbox_row

log = logging.getLogger("kit.log_shipping")
QUEUE = 10_000
BATCH = 500
EVERY_SECONDS = 1.0
ERROR_LEVELS = ("error", "critical")


def _text(value: str) -> str:
    """`value` as protobuf and PostgreSQL take text: lone surrogates (bytes a request carried that
    were no UTF-8) and NUL characters replaced."""
    return value.encode("utf-8", "replace").decode().replace("\x00", "\ufffd")


class LogShipper(logging.Handler):
    def __init__(self, service: str, queue_size: int = QUEUE):
        super().__init__(logging.WARNING)
        self.service = service
        self.instance = f"{socket.gethostname()}:{os.getpid()}"
        self.queue: collections.deque[logs_pb2.LogRecord] = collections.deque(maxlen=queue_size)
        self.dropped = 0

    def emit(self, record: logging.LogRecord) -> None:
        if record.name == log.name:
            return
        try:
            shipped = logs_pb2.LogRecord(
                service=self.service, instance=self.instance, level=record.levelname.lower(), logger=record.name,
                message=_text(record.getMessage()[:4000]), trace_id=_text(logs.trace_id_var.get()),
                rpc=logs.rpc_var.get())
            shipped.time.FromDatetime(datetime.datetime.fromtimestamp(record.created, datetime.timezone.utc))
            if record.exc_info:
                shipped.error = _text(logging.Formatter().formatException(record.exc_info)[:20_000])
        except Exception:
            # A record that cannot be written (a message whose arguments do not fit it) is
            # counted, never raised into the code that logged it.
            self.dropped += 1
            return
        self.keep(shipped)

    def keep(self, record: logs_pb2.LogRecord) -> None:
        """Queues `record` for the next batch."""
        if len(self.queue) == self.queue.maxlen:
            self.dropped += 1  # the oldest goes to make room
        self.queue.append(record)

    def next_batch(self) -> logs_pb2.LogBatch | None:
        """Up to BATCH queued records, taken off the queue; None when none wait."""
        if not self.queue:
            return None
        records = [self.queue.popleft() for _ in range(min(BATCH, len(self.queue)))]
        return logs_pb2.LogBatch(records=records, dropped_so_far=self.dropped)

    async def ship(self, bus: Bus) -> None:
        """Publishes the queued records for the life of the service, each batch as its events."""
        while True:
            await asyncio.sleep(EVERY_SECONDS)
            while (batch := self.next_batch()) is not None:
                if not await self._published(bus, batch):
                    break

    async def _published(self, bus: Bus, batch: logs_pb2.LogBatch) -> bool:
        for event, part in events_of(batch):
            row = outbox_row(self.service, event, self.instance, part, datetime.datetime.now(datetime.timezone.utc))
            try:
                await bus.js.publish(row["subject"], row["envelope"], timeout=2.0)
            except Exception as error:
                self.dropped += len(part.records)
                log.warning("%d log records not shipped (%s); %d dropped so far", len(part.records), error,
                            self.dropped)
                return False
        return True


def events_of(batch: logs_pb2.LogBatch) -> list[tuple[str, logs_pb2.LogBatch]]:
    """The batch as the events that carry it: its errors as system.error, the rest as system.log."""
    errors = [record for record in batch.records if record.level in ERROR_LEVELS]
    others = [record for record in batch.records if record.level not in ERROR_LEVELS]
    return [(event, logs_pb2.LogBatch(records=records, dropped_so_far=batch.dropped_so_far))
            for event, records in (("system.error", errors), ("system.log", others)) if records]
