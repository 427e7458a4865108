"""customer's gRPC servicer."""
from datetime import timezone

from autosalon.customer.v1 import customer_pb2, customer_pb2_grpc
from services.kit import identity
from services.kit.errors import InvalidArgument
from services.kit.identity import ANYONE_SIGNED_IN, STAFF
from services.kit.protos import account_named, idempotency_key, mask_paths, referenced_id

from .convert import TYPE_FROM_PROTO, customer_id, customer_or_mine, profile_from_proto
from .handlers import CustomerHandlers

ACCESS = {
    "ListCustomers": STAFF,
    "GetMyCustomer": ANYONE_SIGNED_IN,
    "GetCustomer": ANYONE_SIGNED_IN,
    "CreateCustomer": STAFF,
    "UpdateCustomer": ANYONE_SIGNED_IN,
    "CreateInteraction": STAFF,
    "ListInteractions": STAFF,
    "ListPurchases": ANYONE_SIGNED_IN,
}


class CustomerApi(customer_pb2_grpc.CustomerServiceServicer):
    def __init__(self, handlers: CustomerHandlers):
        self.handlers = handlers

    async def ListCustomers(self, request, context):
        user = account_named(identity.current(), request.user.strip())
        user_id = referenced_id(user, "users", "user") if user else None
        customers, next_token, total = await self.handlers.search(
            request.query, request.segment, request.tag, user_id, request.page_size, request.page_token)
        return customer_pb2.ListCustomersResponse(
            customers=customers, next_page_token=next_token, total_size=total)

    async def GetMyCustomer(self, request, context):
        return await self.handlers.mine(identity.current())

    async def GetCustomer(self, request, context):
        return await self.handlers.get(identity.current(), customer_or_mine(request.name))

    async def CreateCustomer(self, request, context):
        if not request.HasField("customer"):
            raise InvalidArgument({"customer": "is required"})
        return await self.handlers.create_walk_in(
            identity.current(), profile_from_proto(request.customer), idempotency_key(context, request, required=False))

    async def UpdateCustomer(self, request, context):
        return await self.handlers.update(
            identity.current(), customer_or_mine(request.customer.name, "customer.name"),
            profile_from_proto(request.customer), mask_paths(request.update_mask.paths))

    async def CreateInteraction(self, request, context):
        interaction = request.interaction
        occurred = interaction.occur_time.ToDatetime(tzinfo=timezone.utc) if interaction.HasField("occur_time") else None
        return await self.handlers.add_interaction(
            identity.current(), customer_id(request.parent, "parent"),
            TYPE_FROM_PROTO.get(interaction.type), interaction.note, occurred,
            idempotency_key(context, request, required=False))

    async def ListInteractions(self, request, context):
        found, next_token = await self.handlers.interactions(
            customer_id(request.parent, "parent"), request.page_size, request.page_token)
        return customer_pb2.ListInteractionsResponse(interactions=found, next_page_token=next_token)

    async def ListPurchases(self, request, context):
        found, next_token = await self.handlers.purchases(
            identity.current(), customer_or_mine(request.parent, "parent"), request.page_size, request.page_token)
        return customer_pb2.ListPurchasesResponse(purchases=found, next_page_token=next_token)
