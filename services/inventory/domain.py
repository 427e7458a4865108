"""inventory's rules: vehicle fields, and who may hold, free or sell a vehicle when."""
import uuid
from dataclasses import asdict, dataclass
from decimal import Decimal

from services.kit.errors import FailedPrecondition, InvalidArgument

AVAILABLE, RESERVED, SOLD = "available", "reserved", "sold"
CONDITIONS = ("new", "used")
DEFAULT_HOLD_SECONDS = 24 * 3600
MIN_HOLD_SECONDS, MAX_HOLD_SECONDS = 60, 7 * 24 * 3600
NEW_CAR_MAX_KM = 1000
MAX_KM = 2_000_000
EDITABLE = {"colour", "mileage_km", "condition", "branch", "price_override"}

# Why inventory refuses a change (google.rpc.ErrorInfo.reason; proto/autosalon/ERRORS.md lists them).
VEHICLE_NOT_AVAILABLE = "VEHICLE_NOT_AVAILABLE"
VEHICLE_ALREADY_RESERVED = "VEHICLE_ALREADY_RESERVED"
VEHICLE_WRONG_STATE = "VEHICLE_WRONG_STATE"
VIN_TAKEN = "VIN_TAKEN"


@dataclass(frozen=True)
class VehicleFields:
    colour: str
    mileage_km: int
    condition: str | None
    branch: str
    price_override: Decimal | None


def validate_vehicle(fields: VehicleFields, prefix: str = "vehicle") -> VehicleFields:
    problems = []
    if not fields.colour.strip() or len(fields.colour.strip()) > 40:
        problems.append((f"{prefix}.colour", "is required, at most 40 characters"))
    if not fields.branch.strip() or len(fields.branch.strip()) > 120:
        problems.append((f"{prefix}.branch", "is required, at most 120 characters"))
    if fields.condition not in CONDITIONS:
        problems.append((f"{prefix}.condition", "is required: CONDITION_NEW or CONDITION_USED"))
    if not 0 <= fields.mileage_km <= MAX_KM:
        problems.append((f"{prefix}.mileage_km", f"must be from 0 to {MAX_KM}"))
    elif fields.condition == "new" and fields.mileage_km >= NEW_CAR_MAX_KM:
        problems.append((f"{prefix}.mileage_km", f"a new car has under {NEW_CAR_MAX_KM} km"))
    if fields.price_override is not None and fields.price_override <= 0:
        problems.append((f"{prefix}.price_override", "must be more than zero when set"))
    if problems:
        raise InvalidArgument(problems, "vehicle has invalid fields")
    return VehicleFields(
        colour=fields.colour.strip(), mileage_km=fields.mileage_km, condition=fields.condition,
        branch=fields.branch.strip(), price_override=fields.price_override,
    )


def check_order_id(order_id: str) -> str:
    order_id = order_id.strip()
    if not order_id or len(order_id) > 100:
        raise InvalidArgument({"order_id": "is required, at most 100 characters"})
    return order_id


def hold_seconds(requested: int) -> int:
    if requested == 0:
        return DEFAULT_HOLD_SECONDS
    if not MIN_HOLD_SECONDS <= requested <= MAX_HOLD_SECONDS:
        raise InvalidArgument(
            {"ttl_seconds": f"must be from {MIN_HOLD_SECONDS} to {MAX_HOLD_SECONDS}, or 0"})
    return requested


def _refuse(status: str, holder: str | None, wanted: str, order_id: str) -> FailedPrecondition:
    held = " for another order" if holder and holder != order_id else ""
    if held and status == RESERVED:
        reason = VEHICLE_ALREADY_RESERVED
    else:
        reason = VEHICLE_NOT_AVAILABLE if wanted == RESERVED else VEHICLE_WRONG_STATE
    return FailedPrecondition(f"vehicle is {status}{held}; cannot make it {wanted} for order {order_id}", reason,
                              {"status": status, "order": order_id})


# The state each change for an order starts from, the one its outcome below answers True
# for: (status, whether the order must already hold the vehicle).
RESERVE_FROM = (AVAILABLE, False)
RELEASE_FROM = (RESERVED, True)
SALE_FROM = (RESERVED, True)


def reservation_outcome(status: str, holder: str | None, order_id: str) -> bool:
    """True to reserve now, False when this order already holds it; raises otherwise."""
    if status == AVAILABLE:
        return True
    if status == RESERVED and holder == order_id:
        return False
    raise _refuse(status, holder, RESERVED, order_id)


def release_outcome(status: str, holder: str | None, order_id: str) -> bool:
    """True to release now, False when there is nothing to do; raises otherwise."""
    if status == RESERVED and holder == order_id:
        return True
    if status == AVAILABLE:
        return False
    raise _refuse(status, holder, AVAILABLE, order_id)


def sale_outcome(status: str, holder: str | None, order_id: str) -> bool:
    """True to mark sold now, False when this order already bought it; raises otherwise."""
    if status == RESERVED and holder == order_id:
        return True
    if status == SOLD and holder == order_id:
        return False
    raise _refuse(status, holder, SOLD, order_id)


@dataclass(frozen=True)
class VehicleFilter:
    """A search of the stock: every field set narrows it."""
    model_id: uuid.UUID | None
    brand: str
    status: str | None
    branch: str
    condition: str | None
    price_min: Decimal | None
    price_max: Decimal | None
    mileage_max: int

    def key(self) -> dict:
        return {name: str(value) for name, value in asdict(self).items()}
