"""The sale order aggregate: its events, their fold, and which changes are legal.

The stored events are the truth; an Order is only what folding them gives. Every decision
below is a pure function of the current Order, returning the events to append.
"""
import dataclasses
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from services.kit.errors import AlreadyExists, FailedPrecondition, InvalidArgument

DRAFT, CONFIRMED, PAID, COMPLETED, CANCELLED = "draft", "confirmed", "paid", "completed", "cancelled"
NOTES_MAX = 2000
REASON_MAX = 500
EDITABLE = frozenset({"promo_code", "options", "notes"})

# Why sales refuses a change (google.rpc.ErrorInfo.reason; proto/autosalon/ERRORS.md lists them).
ORDER_WRONG_STATE = "ORDER_WRONG_STATE"
ORDER_NOT_PAID = "ORDER_NOT_PAID"
VEHICLE_NOT_AVAILABLE = "VEHICLE_NOT_AVAILABLE"
HOLD_LIMIT_REACHED = "HOLD_LIMIT_REACHED"


@dataclass(frozen=True)
class Event:
    version: int
    type: str
    data: dict
    actor: str
    occurred_at: datetime
    trace_id: str = ""


@dataclass(frozen=True)
class Order:
    id: str
    customer: str
    vehicle: str
    trim: str
    vehicle_title: str
    promo_code: str
    options: list[dict]
    notes: str
    # The pricing breakdown as pricing's Quote in JSON form (amounts are decimal strings).
    price: dict
    # The vehicle's own price when it has one (else the trim's catalogue price applies).
    own_price: str = ""
    status: str = DRAFT
    cancel_reason: str = ""
    vehicle_reserved: bool = False
    # Until when inventory holds the car for the order (None: not said, before it was recorded).
    held_until: datetime | None = None
    promo_code_redeemed: bool = False
    payment: str = ""
    refunded_payment: str = ""
    deleted: bool = False
    version: int = 0
    created_at: datetime | None = None
    updated_at: datetime | None = None
    created_by: str = ""
    updated_by: str = ""

    @property
    def name(self) -> str:
        return f"orders/{self.id}"

    @property
    def total(self) -> Decimal:
        return Decimal(self.price.get("total", {}).get("amount", "0"))

    @property
    def code_settled(self) -> bool:
        return self.promo_code_redeemed or not self.promo_code

    @property
    def held(self) -> bool:
        """The car is held for the order, unpaid."""
        return self.status == CONFIRMED and self.vehicle_reserved

    @property
    def ready_for_payment(self) -> bool:
        return self.held and self.code_settled


def apply(order: Order | None, event: Event) -> Order:
    """One event onto the state before it (None before `created`)."""
    data = event.data
    if event.type == "created":
        order = Order(
            id=data["id"], customer=data["customer"], vehicle=data["vehicle"], trim=data["trim"],
            vehicle_title=data["vehicle_title"], promo_code=data["promo_code"],
            options=data["options"], notes=data["notes"], price=data["price"],
            own_price=data.get("own_price", ""), created_at=event.occurred_at, created_by=event.actor,
        )
    elif event.type == "updated":
        order = dataclasses.replace(order, **{name: data[name] for name in (*EDITABLE, "price") if name in data})
    elif event.type == "confirmed":
        order = dataclasses.replace(order, status=CONFIRMED)
    elif event.type == "vehicle_reserved":
        held_until = data.get("held_until")
        order = dataclasses.replace(order, vehicle_reserved=True,
                                    held_until=datetime.fromisoformat(held_until) if held_until else None)
    elif event.type == "promo_code_redeemed":
        order = dataclasses.replace(order, promo_code_redeemed=True)
    elif event.type == "paid":
        order = dataclasses.replace(order, status=PAID, payment=data["payment"])
    elif event.type == "cancelled":
        order = dataclasses.replace(order, status=CANCELLED, cancel_reason=data["reason"])
    elif event.type == "completed":
        order = dataclasses.replace(order, status=COMPLETED)
    elif event.type == "deleted":
        order = dataclasses.replace(order, deleted=True)
    elif event.type == "payment_refunded":
        order = dataclasses.replace(order, refunded_payment=data["payment"])
    else:
        raise ValueError(f"unknown order event {event.type}")
    return dataclasses.replace(
        order, version=event.version, updated_at=event.occurred_at, updated_by=event.actor)


def fold(events: list[Event]) -> Order | None:
    order = None
    for event in events:
        order = apply(order, event)
    return order


def _require(order: Order, wanted: str, allowed: tuple[str, ...]) -> None:
    if order.status not in allowed:
        raise _wrong_state(order, f"it cannot become {wanted}")


def _wrong_state(order: Order, rule: str) -> FailedPrecondition:
    return FailedPrecondition(f"order is {order.status}; {rule}", ORDER_WRONG_STATE,
                              {"order": order.name, "status": order.status})


def may_hold_another(held: list[str], most: int) -> None:
    """A confirmed order holds its car until it is paid: a customer holding `most` already
    (`held`, their names) pays for or cancels one before confirming another."""
    if len(held) >= most:
        raise AlreadyExists(f"you already hold {len(held)} cars with confirmed orders not yet paid "
                            f"({', '.join(sorted(held))}); pay for or cancel one first", HOLD_LIMIT_REACHED)


def confirm(order: Order) -> list[tuple[str, dict]]:
    _require(order, CONFIRMED, (DRAFT,))
    return [("confirmed", {})]


def cancel(order: Order, reason: str) -> list[tuple[str, dict]]:
    reason = reason.strip()
    if not reason or len(reason) > REASON_MAX:
        raise InvalidArgument({"reason": f"must be 1 to {REASON_MAX} characters"})
    _require(order, CANCELLED, (DRAFT, CONFIRMED))
    return [("cancelled", {"reason": reason})]


def complete(order: Order) -> list[tuple[str, dict]]:
    if order.status != PAID:
        raise FailedPrecondition(f"order is {order.status}; it can be completed only once paid", ORDER_NOT_PAID,
                                 {"order": order.name, "status": order.status})
    return [("completed", {})]


def edit(order: Order, changes: dict) -> list[tuple[str, dict]]:
    if order.status != DRAFT:
        raise _wrong_state(order, "only a draft can be changed")
    return [("updated", changes)]


def delete(order: Order) -> list[tuple[str, dict]]:
    if order.status != DRAFT:
        raise _wrong_state(order, "only a draft can be deleted")
    return [("deleted", {})]


def check_notes(notes: str) -> str:
    if len(notes) > NOTES_MAX:
        raise InvalidArgument({"notes": f"must be at most {NOTES_MAX} characters"})
    return notes


# What the saga's other services report: each is applied at most once and only while it
# still matters; anything else (a late or repeated report) changes nothing.

def vehicle_reserved(order: Order, held_until: datetime | None = None) -> list[tuple[str, dict]]:
    """inventory holds the car for the order, until `held_until` when it says."""
    if order.status != CONFIRMED or order.vehicle_reserved:
        return []
    return [("vehicle_reserved", {"held_until": held_until.isoformat()} if held_until else {})]


def promo_code_redeemed(order: Order) -> list[tuple[str, dict]]:
    if order.status != CONFIRMED or order.promo_code_redeemed:
        return []
    return [("promo_code_redeemed", {})]


def paid(order: Order, payment: str, paid_so_far: Decimal | None = None) -> list[tuple[str, dict]]:
    """A payment of the order completed: the order is paid once its completed payments reach its
    total (`paid_so_far`; None for a payment that paid all of it)."""
    if order.status != CONFIRMED or (paid_so_far is not None and paid_so_far < order.total):
        return []
    return [("paid", {"payment": payment})]


def payment_refunded(order: Order, payment: str, reference: str) -> list[tuple[str, dict]]:
    """Money taken after the order was cancelled went back: the history says so, once."""
    if order.status != CANCELLED or order.refunded_payment == payment:
        return []
    return [("payment_refunded", {"payment": payment, "refund_reference": reference})]


def saga_cancel(order: Order, reason: str) -> list[tuple[str, dict]]:
    """A step of the saga failed: cancel, unless the order is already past it."""
    if order.status not in (DRAFT, CONFIRMED):
        return []
    return [("cancelled", {"reason": reason[:REASON_MAX]})]


def describe(event: Event) -> str:
    """The event's detail in words, for the order's history."""
    data = event.data
    if event.type == "created":
        return f"{data['vehicle_title']} for {data['price'].get('total', {}).get('amount', '?')} RUB"
    if event.type == "updated":
        return "changed " + ", ".join(sorted(name for name in data if name != "price"))
    if event.type == "cancelled":
        return data["reason"]
    if event.type == "paid":
        return data["payment"]
    if event.type == "payment_refunded":
        return f"{data['payment']} refunded, bank reference {data['refund_reference']}"
    return ""
