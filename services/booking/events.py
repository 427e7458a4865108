"""What booking consumes: inventory's reservations and sales, which cancel the test drives
still to come of the car."""
from autosalon.common.v1 import common_pb2
from autosalon.inventory.v1 import inventory_pb2
from services.kit.consumers import Route, Routes
from services.kit.db import UnitOfWork

from .handlers import BookingHandlers


def stock(handlers: BookingHandlers) -> Routes:
    def taken(what: str):
        async def apply(uow: UnitOfWork, event: inventory_pb2.VehicleEvent, envelope: common_pb2.EventEnvelope) -> None:
            await handlers.vehicle_taken(uow, event.vehicle.name, what)

        return Route(inventory_pb2.VehicleEvent, apply)

    return {"autosalon.inventory.vehicle.reserved": taken("reserved"),
            "autosalon.inventory.vehicle.sold": taken("sold")}
