"""monitoring's gRPC servicers: its API, and the OTLP logs endpoint the edge sends the access
log lines of sampled requests to."""
from autosalon.monitoring.v1 import monitoring_pb2, monitoring_pb2_grpc
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2, logs_service_pb2_grpc
from services.kit.identity import ADMINS, PUBLIC

from .convert import edge_steps
from .handlers import MonitoringHandlers

ACCESS = {"ListLogRecords": ADMINS, "GetTrace": ADMINS, "ListServiceHealth": ADMINS, "GetMetrics": ADMINS}
# Envoy signs nothing; the edge routes only the mesh's own APIs, so no client outside reaches it.
EDGE_LOG_ACCESS = {"Export": PUBLIC}


class MonitoringApi(monitoring_pb2_grpc.MonitoringServiceServicer):
    def __init__(self, handlers: MonitoringHandlers):
        self.handlers = handlers

    async def ListLogRecords(self, request, context):
        records, token = await self.handlers.search(request)
        return monitoring_pb2.ListLogRecordsResponse(records=records, next_page_token=token)

    async def GetTrace(self, request, context):
        return await self.handlers.trace(request.trace_id)

    async def ListServiceHealth(self, request, context):
        return await self.handlers.service_health()

    async def GetMetrics(self, request, context):
        return await self.handlers.metrics(request.service, request.prefix)


class EdgeAccessLog(logs_service_pb2_grpc.LogsServiceServicer):
    def __init__(self, handlers: MonitoringHandlers):
        self.handlers = handlers

    async def Export(self, request, context):
        await self.handlers.keep_edge_steps(edge_steps(request))
        return logs_service_pb2.ExportLogsServiceResponse()
