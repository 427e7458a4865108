"""pricing's gRPC servicer."""
from autosalon.pricing.v1 import pricing_pb2, pricing_pb2_grpc
from services.kit import identity, money
from services.kit.errors import InvalidArgument
from services.kit.identity import ADMINS, PUBLIC, STAFF
from services.kit.protos import idempotency_key, mask_paths, referenced_id, resource_id

from .convert import discount_from_proto
from .handlers import PricingHandlers

ACCESS = {
    "ListDiscounts": STAFF,
    "GetDiscount": STAFF,
    "CreateDiscount": STAFF,
    "UpdateDiscount": STAFF,
    "DeleteDiscount": ADMINS,
    "GetPromoCode": PUBLIC,
    "CreateQuote": PUBLIC,
    "RedeemPromoCode": STAFF,
}


class PricingApi(pricing_pb2_grpc.PricingServiceServicer):
    def __init__(self, handlers: PricingHandlers):
        self.handlers = handlers

    async def ListDiscounts(self, request, context):
        found, token = await self.handlers.list_discounts(request.page_size, request.page_token)
        return pricing_pb2.ListDiscountsResponse(discounts=found, next_page_token=token)

    async def GetDiscount(self, request, context):
        return await self.handlers.get_discount(resource_id(request.name, "discounts"))

    async def CreateDiscount(self, request, context):
        if not request.HasField("discount"):
            raise InvalidArgument({"discount": "is required"})
        return await self.handlers.create_discount(
            identity.current(), discount_from_proto(request.discount), idempotency_key(context, request, required=False))

    async def UpdateDiscount(self, request, context):
        discount_id = resource_id(request.discount.name, "discounts", "discount.name")
        return await self.handlers.update_discount(
            identity.current(), discount_id, discount_from_proto(request.discount),
            mask_paths(request.update_mask.paths))

    async def DeleteDiscount(self, request, context):
        await self.handlers.delete_discount(resource_id(request.name, "discounts"))
        return pricing_pb2.DeleteDiscountResponse()

    async def GetPromoCode(self, request, context):
        return await self.handlers.promo_code(request.code)

    async def CreateQuote(self, request, context):
        options = [option.name for option in request.options]
        own_price = None
        if request.HasField("vehicle_price"):
            own_price = money.from_proto(request.vehicle_price, "vehicle_price")
            if own_price <= 0:
                raise InvalidArgument({"vehicle_price.amount": "must be more than zero"})
        return await self.handlers.quote(request.trim, options, request.promo_code, own_price)

    async def RedeemPromoCode(self, request, context):
        return await self.handlers.redeem(
            request.code, _reference(request.order_id, ("orders",), "order_id"),
            _reference(request.customer, ("users", "customers"), "customer"))


def _reference(value: str, collections: tuple[str, ...], field: str) -> str:
    """`value` as "collection/{uuid}", the first collection for a bare uuid; empty stays empty
    (the handler names every missing field at once)."""
    value = value.strip()
    if not value:
        return ""
    collection = next((name for name in collections if value.startswith(f"{name}/")), collections[0])
    return f"{collection}/{referenced_id(value, collection, field)}"
