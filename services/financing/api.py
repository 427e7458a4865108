"""financing's gRPC servicer."""
from autosalon.financing.v1 import financing_pb2, financing_pb2_grpc
from services.kit import identity
from services.kit.errors import InvalidArgument
from services.kit.identity import ANYONE_SIGNED_IN, PUBLIC, STAFF
from services.kit.masks import masked_fields
from services.kit.protos import idempotency_key, mask_paths, resource_id

from . import domain
from .convert import STATUS_NAME, rate_from, terms_from
from .handlers import EDITABLE, FinancingHandlers

ACCESS = {
    "CalculateLoan": PUBLIC,
    "CalculatePrepayment": PUBLIC,
    "ListApplications": ANYONE_SIGNED_IN,
    "GetApplication": ANYONE_SIGNED_IN,
    "CreateApplication": ANYONE_SIGNED_IN,
    "UpdateApplication": ANYONE_SIGNED_IN,
    "SubmitApplication": ANYONE_SIGNED_IN,
    "ApproveApplication": STAFF,
    "RejectApplication": STAFF,
    "ActivateApplication": STAFF,
    "CompleteApplication": STAFF,
    "DefaultApplication": STAFF,
    "GetSchedule": ANYONE_SIGNED_IN,
}


class FinancingApi(financing_pb2_grpc.FinancingServiceServicer):
    def __init__(self, handlers: FinancingHandlers):
        self.handlers = handlers

    async def CalculateLoan(self, request, context):
        return self.handlers.calculate(request)

    async def CalculatePrepayment(self, request, context):
        return self.handlers.prepayment(request)

    async def ListApplications(self, request, context):
        if request.status and request.status not in STATUS_NAME:
            raise InvalidArgument({"status": "is not a known application status"})
        found, token = await self.handlers.list_applications(
            identity.current(), request.status, request.page_size, request.page_token)
        return financing_pb2.ListApplicationsResponse(applications=found, next_page_token=token)

    async def GetApplication(self, request, context):
        return await self.handlers.get(identity.current(), resource_id(request.name, "applications"))

    async def CreateApplication(self, request, context):
        if not request.HasField("application"):
            raise InvalidArgument({"application": "is required"})
        return await self.handlers.create(
            identity.current(), request.application.customer,
            domain.Terms(**terms_from(request.application, self.handlers.policy)),
            idempotency_key(context, request, required=False))

    async def UpdateApplication(self, request, context):
        application_id = resource_id(request.application.name, "applications", "application.name")
        fields = masked_fields(mask_paths(request.update_mask.paths), EDITABLE)
        return await self.handlers.update(identity.current(), application_id, request.application.etag,
                                          terms_from(request.application, self.handlers.policy, fields))

    async def SubmitApplication(self, request, context):
        return await self.handlers.submit(identity.current(), resource_id(request.name, "applications"))

    async def ApproveApplication(self, request, context):
        rate = rate_from(request.annual_rate, "annual_rate") if request.annual_rate else None
        return await self.handlers.decide(
            identity.current(), resource_id(request.name, "applications"), domain.APPROVED, request.reason, rate)

    async def RejectApplication(self, request, context):
        return await self.handlers.decide(
            identity.current(), resource_id(request.name, "applications"), domain.REJECTED, request.reason, None)

    async def ActivateApplication(self, request, context):
        return await self.handlers.staff_move(
            identity.current(), resource_id(request.name, "applications"), domain.ACTIVE, "")

    async def CompleteApplication(self, request, context):
        return await self.handlers.staff_move(
            identity.current(), resource_id(request.name, "applications"), domain.COMPLETED, "")

    async def DefaultApplication(self, request, context):
        return await self.handlers.staff_move(
            identity.current(), resource_id(request.name, "applications"), domain.DEFAULTED, request.reason)

    async def GetSchedule(self, request, context):
        if not request.name.endswith("/schedule"):
            raise InvalidArgument({"name": "must look like applications/{uuid}/schedule"})
        application_id = resource_id(request.name.removesuffix("/schedule"), "applications")
        return await self.handlers.schedule(identity.current(), application_id)
