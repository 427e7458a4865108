"""Rebuilding the read models from the first event of every stream they read.

The events are replayed (ephemeral JetStream consumers from each stream's first message, only
the subjects reporting routes) into copies of the read-model tables in a schema of their own,
`rebuilding`, while the reports keep reading the current tables and the consumers keep applying
new events to them. Then one transaction takes the swap lock, which every consumer's unit of
work takes shared (so no event is applied meanwhile), replays what was published since, and
replaces the current tables' rows with the rebuilt ones (TRUNCATE and INSERT: the tables keep
their definitions, indexes and names as the migrations made them). The reports wait for that
transaction a moment. An event a consumer applies after it finds the rebuilt rows; one both the
last replay and its consumer apply is applied twice, which every read model's upsert takes as
once. A failure leaves the current tables as they were.
"""
import asyncio
import logging
import uuid

import nats.errors
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from autosalon.common.v1 import common_pb2
from autosalon.reporting.v1 import reporting_pb2
from services.kit.bus import Bus
from services.kit.consumers import Route, Routes
from services.kit.db import Database, UnitOfWork, now
from services.kit.errors import FailedPrecondition, NotFound
from services.kit.identity import Identity
from services.kit.subjects import source_of, stream_name

from . import domain, store
from .convert import rebuild_to_proto

log = logging.getLogger(__name__)
SCHEMA = "rebuilding"
# The advisory lock of the swap; any number, the same in every instance.
SWAP_LOCK = 7_202_612
BATCH = 500
FETCH_SECONDS = 1.0


def guarded(routes: Routes) -> Routes:
    """The routes, each applying its event only while no swap runs (the swap lock, shared)."""
    def route(inner: Route) -> Route:
        async def apply(uow: UnitOfWork, event, envelope: common_pb2.EventEnvelope) -> None:
            await uow.connection.command(_SHARED_LOCK)
            await inner.apply(uow, event, envelope)

        return Route(inner.payload, apply, inner.wanted)

    return {subject: route(inner) for subject, inner in routes.items()}


_SHARED_LOCK = f"SELECT pg_advisory_xact_lock_shared({SWAP_LOCK})"


class Rebuilder:
    def __init__(self, database: Database, bus: Bus, routes: list[Routes]):
        self.database = database
        self.bus = bus
        # The routes by the stream they read: {"sales": {subject: route, …}, …}.
        self.sources: dict[str, Routes] = {}
        for group in routes:
            for subject, route in group.items():
                self.sources.setdefault(source_of(subject), {})[subject] = route
        self._running: set[asyncio.Task] = set()

    async def start(self, caller: Identity) -> reporting_pb2.Rebuild:
        """A rebuild, running in this instance; FailedPrecondition while another one runs."""
        async with self.database.unit_of_work() as uow:
            row = await uow.repository.start_rebuild({
                "id": uuid.uuid4(), "state": "running", "events_applied": 0, "events_total": 0, "started_at": now(),
                "requested_by": caller.user_name, "error": ""})
        if row is None:
            raise FailedPrecondition("a rebuild of the read models is running; wait for it to end",
                                     domain.REBUILD_RUNNING)
        task = asyncio.create_task(self.run(row.id))
        self._running.add(task)
        task.add_done_callback(self._running.discard)
        return rebuild_to_proto(row)

    async def get(self, rebuild_id: uuid.UUID) -> reporting_pb2.Rebuild:
        async with self.database.reading() as uow:
            row = await uow.repository.rebuild(rebuild_id)
        if row is None:
            raise NotFound(f"rebuilds/{rebuild_id} does not exist")
        return rebuild_to_proto(row)

    async def run(self, rebuild_id: uuid.UUID) -> None:
        """Replays every stream into fresh tables and swaps them in; records the outcome."""
        readers = []
        try:
            await self._fresh_tables()
            for source, routes in self.sources.items():
                readers.append(await self._reader(source, routes))
            total = sum([(await reader.consumer_info()).num_pending for reader in readers])
            await self._record(rebuild_id, {"events_total": total})
            applied = 0
            for reader in readers:
                while batch := await self._fetch(reader):
                    async with self.database.unit_of_work() as uow:
                        applied += await self._replay(uow, batch)
                    await self._record(rebuild_id, {"events_applied": applied})
            async with self.database.unit_of_work() as uow:
                await uow.connection.command(f"SELECT pg_advisory_xact_lock({SWAP_LOCK})")
                for reader in readers:
                    while batch := await self._fetch(reader):
                        applied += await self._replay(uow, batch)
                await self._swap(uow)
                await uow.repository.record_rebuild(rebuild_id, {"events_applied": applied, "state": "done",
                                                                 "ended_at": now()})
            log.info("rebuilds/%s: %d events replayed, the rebuilt read models answer", rebuild_id, applied)
        except Exception as error:
            log.exception("rebuilds/%s failed; the read models are as they were", rebuild_id)
            await self._record(rebuild_id, {"state": "failed", "ended_at": now(), "error": str(error)[:500]})
        finally:
            for reader in readers:
                await reader.unsubscribe()
            async with self.database.unit_of_work() as uow:
                await uow.connection.command(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")

    async def _record(self, rebuild_id: uuid.UUID, values: dict) -> None:
        async with self.database.unit_of_work() as uow:
            await uow.repository.record_rebuild(rebuild_id, values)

    async def _fresh_tables(self) -> None:
        async with self.database.unit_of_work() as uow:
            await uow.connection.command(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
            await uow.connection.command(f"CREATE SCHEMA {SCHEMA}")
            for table in store.READ_MODELS:
                await uow.connection.command(
                    f'CREATE TABLE {SCHEMA}."{table.name}" (LIKE public."{table.name}" INCLUDING ALL)')

    async def _reader(self, source: str, routes: Routes):
        """An ephemeral consumer of `source`'s stream from its first message, of the routed subjects."""
        subjects = list(routes)
        return await self.bus.js.pull_subscribe(
            subjects[0], stream=stream_name(source), config=ConsumerConfig(
                deliver_policy=DeliverPolicy.ALL, ack_policy=AckPolicy.NONE,
                filter_subject=subjects[0] if len(subjects) == 1 else None,
                filter_subjects=subjects if len(subjects) > 1 else None,
                # Gone a minute after the rebuild stops asking.
                inactive_threshold=60.0))

    @staticmethod
    async def _fetch(reader) -> list:
        """The next messages, none once the stream has no more for now."""
        pending = (await reader.consumer_info()).num_pending
        if not pending:
            return []
        try:
            # No more than are waiting: a fetch lingers until it has as many as it asked for.
            return await reader.fetch(min(pending, BATCH), timeout=FETCH_SECONDS)
        except (nats.errors.TimeoutError, asyncio.TimeoutError):
            return []

    async def _replay(self, uow: UnitOfWork, messages: list) -> int:
        """Applies the messages to the rebuilding tables, in this unit of work."""
        await uow.connection.command(f"SET LOCAL search_path TO {SCHEMA}, public")
        for message in messages:
            envelope = common_pb2.EventEnvelope.FromString(message.data)
            route = self.sources[source_of(envelope.type)].get(envelope.type)
            if route is None:
                continue
            event = route.payload()
            envelope.data.Unpack(event)
            if route.wanted is None or route.wanted(event):
                await route.apply(uow, event, envelope)
        await uow.connection.command("SET LOCAL search_path TO public")
        return len(messages)

    @staticmethod
    async def _swap(uow: UnitOfWork) -> None:
        for table in store.READ_MODELS:
            await uow.connection.command(f'TRUNCATE public."{table.name}"')
            await uow.connection.command(f'INSERT INTO public."{table.name}" SELECT * FROM {SCHEMA}."{table.name}"')
