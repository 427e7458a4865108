"""insurance's gRPC servicer."""
from autosalon.insurance.v1 import insurance_pb2, insurance_pb2_grpc
from services.kit import identity, money
from services.kit.errors import InvalidArgument
from services.kit.identity import ANYONE_SIGNED_IN, PUBLIC, STAFF
from services.kit.protos import date_from, idempotency_key, resource_id, resource_ids

from . import domain
from .convert import POLICY_STATUS_NAME, PRODUCT_NAME
from .handlers import InsuranceHandlers, PolicyHandlers

ACCESS = {
    "CreateQuote": PUBLIC,
    "GetQuote": ANYONE_SIGNED_IN,
    "ListQuotes": ANYONE_SIGNED_IN,
    "ListTariffVersions": PUBLIC,
    "CreatePolicy": ANYONE_SIGNED_IN,
    "ListPolicies": ANYONE_SIGNED_IN,
    "GetPolicy": ANYONE_SIGNED_IN,
    "CancelPolicy": ANYONE_SIGNED_IN,
    "CreateClaim": ANYONE_SIGNED_IN,
    "ListClaims": ANYONE_SIGNED_IN,
    "GetClaim": ANYONE_SIGNED_IN,
    "ReviewClaim": STAFF,
    "ApproveClaim": STAFF,
    "RejectClaim": STAFF,
    "PayClaim": STAFF,
}


class InsuranceApi(insurance_pb2_grpc.InsuranceServiceServicer):
    def __init__(self, handlers: InsuranceHandlers, policies: PolicyHandlers):
        self.handlers = handlers
        self.policies = policies

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

    async def CreatePolicy(self, request, context):
        if not request.HasField("policy"):
            raise InvalidArgument({"policy": "is required"})
        quote_id = resource_id(request.policy.quote, "quotes", "policy.quote")
        starts_on = date_from(request.policy.starts_on, "policy.starts_on")
        return await self.policies.create(identity.current(), quote_id, starts_on,
                                          idempotency_key(context, request, required=False))

    async def ListPolicies(self, request, context):
        if request.status and request.status not in POLICY_STATUS_NAME:
            raise InvalidArgument({"status": "is not a known policy status"})
        found, token = await self.policies.list_policies(
            identity.current(), request.status, request.page_size, request.page_token)
        return insurance_pb2.ListPoliciesResponse(policies=found, next_page_token=token)

    async def GetPolicy(self, request, context):
        return await self.policies.get(identity.current(), resource_id(request.name, "policies"))

    async def CancelPolicy(self, request, context):
        return await self.policies.cancel(identity.current(), resource_id(request.name, "policies"), request.reason)

    async def CreateClaim(self, request, context):
        policy_id = resource_id(request.parent, "policies", "parent")
        if not request.HasField("claim"):
            raise InvalidArgument({"claim": "is required"})
        claim, problems = request.claim, []
        incident = claimed = None
        try:
            incident = date_from(claim.incident_date, "claim.incident_date")
            if incident is None:
                problems.append(("claim.incident_date", "is required"))
        except InvalidArgument as error:
            problems.extend(error.violations)
        try:
            claimed = money.from_proto(claim.claimed_amount, "claim.claimed_amount")
        except InvalidArgument as error:
            problems.extend(error.violations)
        if not claim.description.strip():
            problems.append(("claim.description", "is required"))
        if problems:
            raise InvalidArgument(problems)
        return await self.policies.create_claim(identity.current(), policy_id, incident, claim.description, claimed,
                                                idempotency_key(context, request, required=False))

    async def ListClaims(self, request, context):
        found, token = await self.policies.list_claims(
            identity.current(), resource_id(request.parent, "policies", "parent"), request.page_size,
            request.page_token)
        return insurance_pb2.ListClaimsResponse(claims=found, next_page_token=token)

    async def GetClaim(self, request, context):
        return await self.policies.get_claim(identity.current(), *resource_ids(request.name, "policies", "claims"))

    async def ReviewClaim(self, request, context):
        return await self.policies.move_claim(identity.current(), *resource_ids(request.name, "policies", "claims"),
                                              domain.UNDER_REVIEW)

    async def ApproveClaim(self, request, context):
        approved = (money.from_proto(request.approved_amount, "approved_amount")
                    if request.HasField("approved_amount") else None)
        return await self.policies.move_claim(identity.current(), *resource_ids(request.name, "policies", "claims"),
                                              domain.APPROVED, request.note, approved)

    async def RejectClaim(self, request, context):
        return await self.policies.move_claim(identity.current(), *resource_ids(request.name, "policies", "claims"),
                                              domain.REJECTED, request.reason)

    async def PayClaim(self, request, context):
        return await self.policies.move_claim(identity.current(), *resource_ids(request.name, "policies", "claims"),
                                              domain.PAID)
