"""overview's use case: every service's stats, asked in parallel, each call with its deadline."""
import asyncio
import datetime
import time

from autosalon.overview.v1 import overview_pb2
from mesh.v1 import stats_pb2, stats_pb2_grpc
from services.kit import errors
from services.kit.calls import Peers
from services.kit.identity import Identity
from services.kit.protos import timestamp
from services.kit.stats import version

PLATFORM = "Autosalon"


class OverviewHandlers:
    def __init__(self, peers: Peers, services: list[str], settings):
        self.peers = peers
        self.services = services
        # Hot: each call's deadline.
        self.settings = settings
        self.version = version()

    async def _stats(self, service: str) -> tuple[stats_pb2.Stats | None, int]:
        """The service's stats and how long they took, or None when it did not answer in time."""
        deadline = self.settings.stats_deadline_ms / 1000
        started = time.perf_counter()
        try:
            stats = await asyncio.wait_for(self.peers.call(
                service, stats_pb2_grpc.StatsServiceStub, "GetStats", stats_pb2.GetStatsRequest(), timeout=deadline,
                as_caller=False), deadline)
        except (asyncio.TimeoutError, errors.DomainError):
            stats = None
        return stats, round((time.perf_counter() - started) * 1000)

    async def overview(self, caller: Identity | None) -> overview_pb2.Overview:
        """The platform and every service's state; the details for staff only."""
        answers = await asyncio.gather(*(self._stats(service) for service in self.services))
        page = overview_pb2.Overview(platform=PLATFORM, version=self.version,
                                     time=timestamp(datetime.datetime.now(datetime.timezone.utc)))
        for service, (stats, took_ms) in zip(self.services, answers):
            state = page.services.add(name=service, available=stats is not None)
            if stats is None:
                page.unavailable.append(service)
            elif caller is not None and caller.is_staff:
                state.MergeFrom(overview_pb2.ServiceState(
                    instance=stats.instance, version=stats.version, uptime_seconds=stats.uptime_seconds,
                    requests=stats.requests, failed_requests=stats.failed_requests,
                    events_waiting=stats.events_waiting, answered_in_ms=took_ms))
        return page
