"""What every emulator of an outside system does around its own servicer: listen on its address
with the gRPC health service and reflection, log as JSON lines, and stop on SIGTERM."""
import asyncio
import json
import logging
import pathlib
import random
import signal

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from services.kit import logs

log = logging.getLogger(__name__)


async def serve(program: str, address: str, servicer, add_servicer, service_descriptor) -> None:
    """Serves `servicer` (added by its generated `add_servicer`) on `address` until SIGTERM."""
    logs.configure(program)
    grpc_server = grpc.aio.server()
    add_servicer(servicer, grpc_server)
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, grpc_server)
    reflection.enable_server_reflection(
        [service_descriptor.full_name, health.SERVICE_NAME, reflection.SERVICE_NAME], grpc_server)
    grpc_server.add_insecure_port(address)
    await grpc_server.start()
    await health_servicer.set("", health_pb2.HealthCheckResponse.SERVING)
    log.info("%s emulator on %s", program, address)
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(signum, stop.set)
    await stop.wait()
    await grpc_server.stop(grace=2)


async def behave_like_a_network(context, latency_seconds: float, failure_rate: float, outage: str) -> None:
    """Takes the caller's trace id for the log lines, waits the latency, and sometimes fails
    as an outage (UNAVAILABLE with `outage`) would."""
    logs.trace_id_var.set(dict(context.invocation_metadata()).get("x-request-id", ""))
    await asyncio.sleep(latency_seconds)
    if failure_rate and random.random() < failure_rate:
        await context.abort(grpc.StatusCode.UNAVAILABLE, outage)


class Kept:
    """An emulator's records (JSON-able dicts by name) in a file of the run folder, so that they
    outlive a restart as an outside system's would; only in memory without a path."""

    def __init__(self, path: pathlib.Path | None, *names: str):
        self._path = path
        kept = json.loads(path.read_text()) if path is not None and path.exists() else {}
        self.records: dict[str, dict] = {name: kept.get(name, {}) for name in names}

    def save(self) -> None:
        if self._path is not None:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            partial = self._path.with_suffix(".partial")
            partial.write_text(json.dumps(self.records))
            partial.replace(self._path)
