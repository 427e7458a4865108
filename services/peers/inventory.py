"""inventory's client: a vehicle as the stock has it."""
import uuid

from autosalon.inventory.v1 import inventory_pb2, inventory_pb2_grpc
from services.kit.calls import Peers


async def get_vehicle(peers: Peers, vehicle_id: uuid.UUID) -> inventory_pb2.Vehicle:
    """The vehicle as inventory has it now; NotFound when it does not exist."""
    return await peers.call("inventory", inventory_pb2_grpc.InventoryServiceStub, "GetVehicle",
                            inventory_pb2.GetVehicleRequest(name=f"vehicles/{vehicle_id}"))


def status_name(vehicle: inventory_pb2.Vehicle) -> str:
    """"available", "reserved" or "sold"."""
    return inventory_pb2.VehicleStatus.Name(vehicle.status).removeprefix("VEHICLE_STATUS_").lower()
