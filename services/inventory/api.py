"""inventory's gRPC servicer."""
from decimal import Decimal

from autosalon.inventory.v1 import inventory_pb2, inventory_pb2_grpc
from services.kit import identity, money
from services.kit.errors import InvalidArgument
from services.kit.identity import PUBLIC, STAFF
from services.kit.protos import idempotency_key, mask_paths, referenced_id

from . import domain
from .convert import CONDITION_FROM_PROTO, STATUS_FROM_PROTO, vehicle_id
from .handlers import InventoryHandlers

ACCESS = {
    "ListVehicles": PUBLIC,
    "GetVehicle": PUBLIC,
    "CreateVehicle": STAFF,
    "UpdateVehicle": STAFF,
    "ReserveVehicle": STAFF,
    "ReleaseVehicle": STAFF,
    "MarkVehicleSold": STAFF,
}


def _fields(vehicle: inventory_pb2.Vehicle) -> domain.VehicleFields:
    override = None
    if vehicle.price_override.amount:
        override = money.from_proto(vehicle.price_override, "vehicle.price_override")
    return domain.VehicleFields(
        colour=vehicle.colour, mileage_km=vehicle.mileage_km,
        condition=CONDITION_FROM_PROTO.get(vehicle.condition), branch=vehicle.branch,
        price_override=override,
    )


def _optional_amount(text: str, field: str) -> Decimal | None:
    return money.parse_amount(text, field) if text else None


class InventoryApi(inventory_pb2_grpc.InventoryServiceServicer):
    def __init__(self, handlers: InventoryHandlers):
        self.handlers = handlers

    async def ListVehicles(self, request, context):
        model_id = referenced_id(request.model, "models", "model") if request.model else None
        price_min = _optional_amount(request.price_min, "price_min")
        price_max = _optional_amount(request.price_max, "price_max")
        if price_min is not None and price_max is not None and price_min > price_max:
            raise InvalidArgument({"price_max": "must not be below price_min"})
        if request.mileage_max < 0:
            raise InvalidArgument({"mileage_max": "must not be negative; 0 for no bound"})
        search = domain.VehicleFilter(
            model_id=model_id, brand=request.brand,
            status=STATUS_FROM_PROTO.get(request.status), branch=request.branch.strip(),
            condition=CONDITION_FROM_PROTO.get(request.condition),
            price_min=price_min, price_max=price_max, mileage_max=request.mileage_max,
        )
        vehicles, next_token, total = await self.handlers.list_vehicles(
            search, request.page_size, request.page_token)
        return inventory_pb2.ListVehiclesResponse(
            vehicles=vehicles, next_page_token=next_token, total_size=total)

    async def GetVehicle(self, request, context):
        return await self.handlers.get_vehicle(vehicle_id(request.name))

    async def CreateVehicle(self, request, context):
        if not request.HasField("vehicle"):
            raise InvalidArgument({"vehicle": "is required"})
        vehicle = request.vehicle
        return await self.handlers.add_vehicle(
            identity.current(), vehicle.vin, vehicle.model, vehicle.trim, _fields(vehicle),
            idempotency_key(context, request, required=False))

    async def UpdateVehicle(self, request, context):
        return await self.handlers.update_vehicle(
            identity.current(), vehicle_id(request.vehicle.name, "vehicle.name"),
            _fields(request.vehicle), mask_paths(request.update_mask.paths))

    async def ReserveVehicle(self, request, context):
        return await self.handlers.reserve(
            identity.current().user_name, vehicle_id(request.name), request.order_id,
            request.ttl_seconds)

    async def ReleaseVehicle(self, request, context):
        return await self.handlers.release(
            identity.current().user_name, vehicle_id(request.name), request.order_id)

    async def MarkVehicleSold(self, request, context):
        return await self.handlers.mark_sold(
            identity.current().user_name, vehicle_id(request.name), request.order_id)
