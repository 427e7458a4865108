"""monitoring's gRPC servicer."""
from autosalon.monitoring.v1 import monitoring_pb2, monitoring_pb2_grpc
from services.kit.identity import ADMINS

from .handlers import MonitoringHandlers

ACCESS = {"ListLogRecords": ADMINS, "GetTrace": ADMINS, "ListServiceHealth": ADMINS}


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
