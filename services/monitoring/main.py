"""monitoring's composition root."""
from autosalon.monitoring.v1 import monitoring_pb2
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
from services.kit import runtime, server
from services.kit.manifest import every_service
from services.peers import auth

from . import SERVICE, events, store
from .api import ACCESS, EDGE_LOG_ACCESS, EdgeAccessLog, MonitoringApi
from .handlers import MonitoringHandlers


async def main() -> None:
    service = await runtime.start(SERVICE, store.outbox, store.MonitoringRepository, auth.TRUST)
    services = list(every_service())
    handlers = MonitoringHandlers(service.database, service.consul, services, service.settings.envoy_admin_url)
    service.serve(MonitoringApi(handlers), monitoring_pb2.DESCRIPTOR.services_by_name["MonitoringService"], ACCESS)
    service.serve(EdgeAccessLog(handlers), logs_service_pb2.DESCRIPTOR.services_by_name["LogsService"],
                  EDGE_LOG_ACCESS)
    # Every service's records, its own among them.
    for name in services:
        service.consume(f"logs-{name}", events.logs_of(name, handlers))
    # One instance at a time: two passes would race to write the same checks.
    service.every(2.0, handlers.watch_checks, "the services' checks in Consul", alone=True)
    await service.run()


if __name__ == "__main__":
    server.run(main)
