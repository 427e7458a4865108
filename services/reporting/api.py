"""reporting's gRPC servicer."""
from google.api import httpbody_pb2

from autosalon.reporting.v1 import reporting_pb2, reporting_pb2_grpc
from services.kit.errors import InvalidArgument
from services.kit import identity
from services.kit.identity import ADMINS, STAFF
from services.kit.protos import idempotency_key, resource_id

from .convert import DIMENSION, DOCUMENT_FORMAT, PERIOD
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
    "CreateStoredSalesReport": STAFF,
    "ListStoredSalesReports": STAFF,
    "GetStoredSalesReport": STAFF,
    "DownloadStoredSalesReport": STAFF,
    "RebuildReadModels": ADMINS,
    "GetRebuild": ADMINS,
}


class ReportingApi(reporting_pb2_grpc.ReportingServiceServicer):
    def __init__(self, handlers: ReportingHandlers, rebuilder: Rebuilder):
        self.handlers = handlers
        self.rebuilder = rebuilder

    async def GetSalesReport(self, request, context):
        period, split = _period_and_split(request.period, request.split_by, "")
        return await self.handlers.sales_report(request.start_date, request.end_date, period, split, request.branch,
                                                request.brand)

    async def CreateStoredSalesReport(self, request, context):
        if not request.HasField("stored_sales_report"):
            raise InvalidArgument({"stored_sales_report": "is required"})
        wanted = request.stored_sales_report
        period, split = _period_and_split(wanted.period, wanted.split_by, "stored_sales_report.")
        return await self.handlers.keep_sales_report(identity.current(), wanted, period, split,
                                                     idempotency_key(context, request, required=False))

    async def ListStoredSalesReports(self, request, context):
        stored, token = await self.handlers.stored_sales_reports(request.page_size, request.page_token)
        return reporting_pb2.ListStoredSalesReportsResponse(stored_sales_reports=stored, next_page_token=token)

    async def GetStoredSalesReport(self, request, context):
        return await self.handlers.stored_sales_report(resource_id(request.name, "sales-reports"))

    async def DownloadStoredSalesReport(self, request, context):
        if request.format not in DOCUMENT_FORMAT:
            raise InvalidArgument({"format": "must be DOCUMENT_FORMAT_CSV or DOCUMENT_FORMAT_PDF"})
        content_type, file_name, data = await self.handlers.download(
            resource_id(request.name, "sales-reports"), DOCUMENT_FORMAT[request.format])
        await context.send_initial_metadata((("content-disposition", f'attachment; filename="{file_name}"'),))
        return httpbody_pb2.HttpBody(content_type=content_type, data=data)

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


def _period_and_split(period: int, split: int, prefix: str) -> tuple[str, str]:
    if period not in PERIOD:
        raise InvalidArgument({f"{prefix}period": "must be PERIOD_DAY, PERIOD_WEEK, PERIOD_MONTH or PERIOD_QUARTER"})
    if split not in DIMENSION:
        raise InvalidArgument({f"{prefix}split_by": "must be DIMENSION_BRANCH, DIMENSION_BRAND, DIMENSION_MODEL or "
                                                    "DIMENSION_SALESPERSON"})
    return PERIOD[period], DIMENSION[split]
