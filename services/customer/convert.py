"""customer's rows <-> protobuf messages."""
import uuid
from decimal import Decimal

from autosalon.customer.v1 import customer_pb2
from services.kit import money
from services.kit.protos import audit, resource_id, timestamp
from services.kit.statements import Row

from .domain import Profile

CHANNEL_TO_PROTO = {"email": customer_pb2.CHANNEL_EMAIL, "sms": customer_pb2.CHANNEL_SMS,
                    "push": customer_pb2.CHANNEL_PUSH}
CHANNEL_FROM_PROTO = {number: name for name, number in CHANNEL_TO_PROTO.items()}
TYPE_TO_PROTO = {
    "call": customer_pb2.INTERACTION_TYPE_CALL, "email": customer_pb2.INTERACTION_TYPE_EMAIL,
    "visit": customer_pb2.INTERACTION_TYPE_VISIT, "test_drive": customer_pb2.INTERACTION_TYPE_TEST_DRIVE,
}
TYPE_FROM_PROTO = {number: name for name, number in TYPE_TO_PROTO.items()}


# How a client names their own profile wherever a "customers/{uuid}" is taken.
MY_PROFILE = "customers/me"


def customer_id(name: str, field: str = "name") -> uuid.UUID:
    return resource_id(name, "customers", field)


def customer_or_mine(name: str, field: str = "name") -> uuid.UUID | None:
    """The uuid in "customers/{uuid}"; None for "customers/me", the caller's own profile."""
    return None if name == MY_PROFILE else customer_id(name, field)


def profile_from_proto(customer: customer_pb2.Customer) -> Profile:
    preferences = customer.preferences
    budget = Decimal("0")
    if preferences.budget.amount:
        budget = money.from_proto(preferences.budget, "customer.preferences.budget")
    return Profile(
        full_name=customer.full_name, email=customer.email, phone=customer.phone,
        address={"city": customer.address.city, "street": customer.address.street,
                 "postal_code": customer.address.postal_code},
        preferences={
            "channels": [CHANNEL_FROM_PROTO.get(channel, "unknown") for channel in preferences.channels],
            "preferred_brands": [brand.strip() for brand in preferences.preferred_brands if brand.strip()],
            "budget": str(budget),
        },
        tags=list(customer.tags),
    )


def customer_to_proto(row: Row) -> customer_pb2.Customer:
    preferences = row.preferences
    return customer_pb2.Customer(
        name=f"customers/{row.id}",
        user=f"users/{row.user_id}" if row.user_id else "",
        full_name=row.full_name, email=row.email, phone=row.phone,
        address=customer_pb2.Address(**row.address),
        preferences=customer_pb2.Preferences(
            channels=[CHANNEL_TO_PROTO[channel] for channel in preferences.get("channels", [])],
            preferred_brands=preferences.get("preferred_brands", []),
            budget=money.to_proto(Decimal(preferences.get("budget", "0"))),
        ),
        tags=row.tags, segment=row.segment, purchase_count=row.purchase_count,
        total_spent=money.to_proto(row.total_spent),
        audit=audit(row),
    )


def purchase_to_proto(row: Row) -> customer_pb2.Purchase:
    return customer_pb2.Purchase(
        name=f"customers/{row.customer_id}/purchases/{row.order_id}", order=f"orders/{row.order_id}",
        vehicle=row.vehicle, vehicle_title=row.vehicle_title,
        total=money.to_proto(row.total, row.currency), complete_time=timestamp(row.completed_at))


def interaction_to_proto(row: Row) -> customer_pb2.Interaction:
    return customer_pb2.Interaction(
        name=f"customers/{row.customer_id}/interactions/{row.id}", type=TYPE_TO_PROTO[row.type],
        note=row.note, occur_time=timestamp(row.occurred_at), logged_by=row.logged_by)
