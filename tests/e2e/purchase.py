"""Steps of the purchase saga through the edge, shared by the saga tests and nothing else."""
import time
import uuid

import httpx

from .conftest import bearer
from .test_inventory import _vehicle_body

# A card the gateway approves, and one its issuer declines (ends in 0002).
GOOD_CARD = "4111 1111 1111 1111"
DECLINED_CARD = "4000000000000002"


def new_vehicle(edge: httpx.Client, manager: dict) -> dict:
    response = edge.post("/inventory/vehicles", json=_vehicle_body(edge), headers=bearer(manager))
    assert response.status_code == 200, response.text
    return response.json()


def create_order(edge: httpx.Client, buyer: dict, vehicle: dict, **fields) -> httpx.Response:
    return edge.post("/sales/orders", headers=bearer(buyer),
                     json={"vehicle_id": vehicle["name"].removeprefix("vehicles/"), **fields})


def draft(edge: httpx.Client, buyer: dict, vehicle: dict, **fields) -> dict:
    response = create_order(edge, buyer, vehicle, **fields)
    assert response.status_code == 200, response.text
    return response.json()


def confirm(edge: httpx.Client, buyer: dict, order: dict) -> httpx.Response:
    return edge.post(f"/sales/{order['name']}:confirm", headers=bearer(buyer), json={})


def wait_for_order(edge: httpx.Client, who: dict, order: dict, done, seconds: float = 20) -> dict:
    """Polls the order until `done(order)` holds; returns it (failing after `seconds`).
    A 503 while sales restarts is waited out like any other not-yet."""
    deadline = time.monotonic() + seconds
    while True:
        response = edge.get(f"/sales/{order['name']}", headers=bearer(who))
        if response.status_code == 200 and done(response.json()):
            return response.json()
        assert response.status_code in (200, 503), response.text
        assert time.monotonic() < deadline, f"order stuck at {response.text}"
        time.sleep(0.1)


def eventually(check, seconds: float = 20) -> None:
    """Waits until `check()` holds, for what other services do after an event."""
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.1)


def vehicle_status(edge: httpx.Client, vehicle: dict) -> str:
    return edge.get(f"/inventory/{vehicle['name']}").json().get("status", "")


def ready(order: dict) -> bool:
    return order.get("ready_for_payment", False) or order["status"] == "ORDER_STATUS_CANCELLED"


def in_status(status: str):
    return lambda order: order["status"] == status


def pay(edge: httpx.Client, buyer: dict, order: dict, card: str = GOOD_CARD,
        key: str | None = None, method: str = "PAYMENT_METHOD_CARD", **fields) -> httpx.Response:
    """A payment for the order (all that is left of it, unless `fields` names an `amount`)."""
    return edge.post("/payments", headers={**bearer(buyer), "Idempotency-Key": key or uuid.uuid4().hex},
                     json={"order_id": order["name"], "method": method, "card_number": card, **fields})


def confirmed_and_ready(edge: httpx.Client, buyer: dict, vehicle: dict, **fields) -> dict:
    order = draft(edge, buyer, vehicle, **fields)
    response = confirm(edge, buyer, order)
    assert response.status_code == 200, response.text
    return wait_for_order(edge, buyer, order, ready)
