"""insurance's gRPC servicer."""
from autosalon.insurance.v1 import insurance_pb2, insurance_pb2_grpc
from services.kit import identity
from services.kit.errors import InvalidArgument
from services.kit.identity import ANYONE_SIGNED_IN, PUBLIC
from services.kit.protos import resource_id

from .convert import PRODUCT_NAME
from .handlers import InsuranceHandlers

ACCESS = {
    "CreateQuote": PUBLIC,
    "GetQuote": ANYONE_SIGNED_IN,
    "ListQuotes": ANYONE_SIGNED_IN,
    "ListTariffVersions": PUBLIC,
}


class InsuranceApi(insurance_pb2_grpc.InsuranceServiceServicer):
    def __init__(self, handlers: InsuranceHandlers):
        self.handlers = handlers

    async def CreateQuote(self, request, context):
        if not request.HasField("quote"):
            raise InvalidArgument({"quote": "is required"})
        return await self.handlers.create_quote(identity.optional(), request.quote)

    async def GetQuote(self, request, context):
        return await self.handlers.get_quote(identity.current(), resource_id(request.name, "quotes"))

    async def ListQuotes(self, request, context):
        if request.product and request.product not in PRODUCT_NAME:
            raise InvalidArgument({"product": "is not a known product"})
        found, token = await self.handlers.list_quotes(
            identity.current(), request.product, request.page_size, request.page_token)
        return insurance_pb2.ListQuotesResponse(quotes=found, next_page_token=token)

    async def ListTariffVersions(self, request, context):
        return insurance_pb2.ListTariffVersionsResponse(versions=self.handlers.tariff_versions())
