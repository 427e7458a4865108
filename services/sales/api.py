"""sales' gRPC servicer."""
from autosalon.sales.v1 import sales_pb2, sales_pb2_grpc
from services.kit import identity
from services.kit.errors import InvalidArgument
from services.kit.identity import ANYONE_SIGNED_IN, STAFF
from services.kit.protos import account_named, idempotency_key, mask_paths, referenced_id, resource_id

from .convert import STATUS_NAME, option_names
from .handlers import SalesHandlers

ACCESS = {
    "ListOrders": ANYONE_SIGNED_IN,
    "GetOrder": ANYONE_SIGNED_IN,
    "CreateOrder": ANYONE_SIGNED_IN,
    "UpdateOrder": ANYONE_SIGNED_IN,
    "DeleteOrder": ANYONE_SIGNED_IN,
    "ConfirmOrder": ANYONE_SIGNED_IN,
    "CancelOrder": ANYONE_SIGNED_IN,
    "CompleteOrder": STAFF,
    "ListOrderEvents": ANYONE_SIGNED_IN,
    "WatchOrder": ANYONE_SIGNED_IN,
}


def _order_id(name: str, field: str = "name"):
    return resource_id(name, "orders", field)


class SalesApi(sales_pb2_grpc.SalesServiceServicer):
    def __init__(self, handlers: SalesHandlers):
        self.handlers = handlers

    async def ListOrders(self, request, context):
        if request.status and request.status not in STATUS_NAME:
            raise InvalidArgument({"status": "is not a known order status"})
        named = account_named(identity.current(), request.customer)
        customer = f"users/{referenced_id(named, 'users', 'customer')}" if named else ""
        found, token, total = await self.handlers.list_orders(
            identity.current(), request.status, customer, request.page_size, request.page_token)
        return sales_pb2.ListOrdersResponse(orders=found, next_page_token=token, total_size=total)

    async def GetOrder(self, request, context):
        return await self.handlers.get(identity.current(), _order_id(request.name))

    async def CreateOrder(self, request, context):
        vehicle_id = referenced_id(request.vehicle_id, "vehicles", "vehicle_id")
        return await self.handlers.create(
            identity.current(), vehicle_id, request.trim_id.strip(), request.promo_code,
            option_names(request.options), request.notes, request.customer.strip(),
            idempotency_key(context, request, required=False))

    async def UpdateOrder(self, request, context):
        order_id = _order_id(request.order.name, "order.name")
        changes = {"promo_code": request.order.promo_code, "notes": request.order.notes,
                   "options": option_names(request.order.options)}
        return await self.handlers.update(identity.current(), order_id, request.order.etag, changes,
                                          mask_paths(request.update_mask.paths))

    async def DeleteOrder(self, request, context):
        await self.handlers.delete(identity.current(), _order_id(request.name), request.etag)
        return sales_pb2.DeleteOrderResponse()

    async def ConfirmOrder(self, request, context):
        return await self.handlers.confirm(identity.current(), _order_id(request.name), request.etag)

    async def CancelOrder(self, request, context):
        return await self.handlers.cancel(identity.current(), _order_id(request.name), request.etag,
                                          request.reason)

    async def CompleteOrder(self, request, context):
        return await self.handlers.complete(identity.current(), _order_id(request.name), request.etag)

    async def ListOrderEvents(self, request, context):
        events = await self.handlers.history(identity.current(), _order_id(request.parent, "parent"))
        return sales_pb2.ListOrderEventsResponse(events=events)

    def WatchOrder(self, request, context):
        return self.handlers.watch(identity.current(), _order_id(request.name))
