"""What monitoring consumes: every service's shipped log records (autosalon.<service>.system.error
and .system.log), one consumer a service's stream."""
from autosalon.common.v1 import common_pb2
from mesh.v1 import logs_pb2
from services.kit.consumers import Route, Routes
from services.kit.db import UnitOfWork

from .handlers import MonitoringHandlers


def logs_of(service: str, handlers: MonitoringHandlers) -> Routes:
    async def kept(uow: UnitOfWork, batch: logs_pb2.LogBatch, envelope: common_pb2.EventEnvelope) -> None:
        await handlers.keep(uow, batch)

    return {f"autosalon.{service}.system.{kind}": Route(logs_pb2.LogBatch, kept) for kind in ("error", "log")}
