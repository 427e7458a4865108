"""Every service's own stats (mesh.v1.StatsService/GetStats), for the edge's overview: the
platform's version, how long the instance has run, the calls it answered and failed, and the
events its service has not yet published. The runtime serves it for every service, public
inside the mesh; the edge routes no call to it."""
import datetime
import functools
import os
import socket
import subprocess
import tomllib

import sqlalchemy as sa

from mesh.v1 import stats_pb2, stats_pb2_grpc

from .db import Database
from .protos import timestamp
from .server import CallCounts
from .settings import REPO_ROOT


def declared_version() -> str:
    """The project's version as pyproject.toml declares it ("0.1.0")."""
    return tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]["version"]


@functools.cache
def version() -> str:
    """The project's version, with the commit it runs ("0.1.0+1a783ca") where git knows it."""
    declared = declared_version()
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT, capture_output=True,
                                text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        commit = ""
    return f"{declared}+{commit}" if commit else declared


class StatsServicer(stats_pb2_grpc.StatsServiceServicer):
    def __init__(self, service: str, database: Database, calls: CallCounts):
        self.service = service
        self.database = database
        self.calls = calls
        self.started = datetime.datetime.now(datetime.timezone.utc)
        self.instance = f"{socket.gethostname()}:{os.getpid()}"
        # Asked of git once, at start, not on the event loop of a first request.
        self.version = version()
        self._waiting = sa.select(sa.func.count()).select_from(database.outbox).where(
            database.outbox.c.published_at.is_(None))

    async def events_waiting(self) -> int:
        """Events written to the outbox and not yet published."""
        async with self.database.reading() as uow:
            return await uow.connection.scalar(self._waiting)

    async def GetStats(self, request, context):
        waiting = await self.events_waiting()
        uptime = datetime.datetime.now(datetime.timezone.utc) - self.started
        return stats_pb2.Stats(
            service=self.service, instance=self.instance, version=self.version, start_time=timestamp(self.started),
            uptime_seconds=int(uptime.total_seconds()), requests=self.calls.requests,
            failed_requests=self.calls.failed, events_waiting=waiting)
