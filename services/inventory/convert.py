"""inventory's rows <-> protobuf messages."""
import uuid

from autosalon.inventory.v1 import inventory_pb2
from services.kit import money
from services.kit.protos import audit, resource_id, timestamp
from services.kit.statements import Row

CONDITION_TO_PROTO = {"new": inventory_pb2.CONDITION_NEW, "used": inventory_pb2.CONDITION_USED}
CONDITION_FROM_PROTO = {number: name for name, number in CONDITION_TO_PROTO.items()}
STATUS_TO_PROTO = {
    "available": inventory_pb2.VEHICLE_STATUS_AVAILABLE,
    "reserved": inventory_pb2.VEHICLE_STATUS_RESERVED,
    "sold": inventory_pb2.VEHICLE_STATUS_SOLD,
}
STATUS_FROM_PROTO = {number: name for name, number in STATUS_TO_PROTO.items()}


def vehicle_id(name: str, field: str = "name") -> uuid.UUID:
    return resource_id(name, "vehicles", field)


def vehicle_to_proto(row: Row) -> inventory_pb2.Vehicle:
    vehicle = inventory_pb2.Vehicle(
        name=f"vehicles/{row.id}",
        vin=row.vin,
        model=f"models/{row.model_id}",
        trim=f"models/{row.model_id}/trims/{row.trim_id}",
        brand=row.brand or "",
        model_name=row.model_name or "",
        year=row.year or 0,
        colour=row.colour,
        mileage_km=row.mileage_km,
        condition=CONDITION_TO_PROTO[row.condition],
        branch=row.branch,
        status=STATUS_TO_PROTO[row.status],
        vin_info=inventory_pb2.VinInfo(**row.vin_facts),
        audit=audit(row),
    )
    if row.price_override is not None:
        vehicle.price_override.CopyFrom(money.to_proto(row.price_override))
    if row.price is not None:
        vehicle.price.CopyFrom(money.to_proto(row.price))
    if row.order_id:
        vehicle.reservation.order_id = row.order_id
        if row.reserved_until is not None:
            vehicle.reservation.expire_time.CopyFrom(timestamp(row.reserved_until))
    return vehicle
