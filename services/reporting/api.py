"""reporting's gRPC servicer."""
from autosalon.reporting.v1 import reporting_pb2_grpc
from services.kit.errors import InvalidArgument
from services.kit import identity
from services.kit.identity import ADMINS, STAFF
from services.kit.protos import resource_id

from .convert import DIMENSION, PERIOD
from .handlers import ReportingHandlers
from .rebuild import Rebuilder

ACCESS = {
    "GetSalesReport": STAFF,
    "GetFunnelReport": STAFF,
    "GetPromotionReport": STAFF,
    "GetPopularityReport": STAFF,
    "GetFinancingReport": STAFF,
    "GetInsuranceReport": STAFF,
    "GetWorkshopReport": STAFF,
    "RebuildReadModels": ADMINS,
    "GetRebuild": ADMINS,
}


class ReportingApi(reporting_pb2_grpc.ReportingServiceServicer):
    def __init__(self, handlers: ReportingHandlers, rebuilder: Rebuilder):
        self.handlers = handlers
        self.rebuilder = rebuilder

    async def GetSalesReport(self, request, context):
        if request.period not in PERIOD:
            raise InvalidArgument({"period": "must be PERIOD_DAY, PERIOD_WEEK, PERIOD_MONTH or PERIOD_QUARTER"})
        if request.split_by not in DIMENSION:
            raise InvalidArgument({"split_by": "must be DIMENSION_BRANCH, DIMENSION_BRAND, DIMENSION_MODEL or "
                                               "DIMENSION_SALESPERSON"})
        return await self.handlers.sales_report(request.start_date, request.end_date, PERIOD[request.period],
                                                DIMENSION[request.split_by], request.branch, request.brand)

    async def GetFunnelReport(self, request, context):
        return await self.handlers.funnel_report(request.start_date, request.end_date)

    async def GetPromotionReport(self, request, context):
        return await self.handlers.promotion_report(request.start_date, request.end_date)

    async def GetPopularityReport(self, request, context):
        return await self.handlers.popularity_report(request.start_date, request.end_date)

    async def GetFinancingReport(self, request, context):
        return await self.handlers.financing_report(request.start_date, request.end_date)

    async def GetInsuranceReport(self, request, context):
        return await self.handlers.insurance_report(request.start_date, request.end_date)

    async def GetWorkshopReport(self, request, context):
        return await self.handlers.workshop_report(request.start_date, request.end_date)

    async def RebuildReadModels(self, request, context):
        return await self.rebuilder.start(identity.current())

    async def GetRebuild(self, request, context):
        return await self.rebuilder.get(resource_id(request.name, "rebuilds"))
