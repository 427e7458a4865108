"""The purchase saga end to end through the edge: order, confirm, reserve, pay, sell, hand over,
and every way it can fail and be compensated."""
import uuid

from .conftest import STRONG_PASSWORD, bearer, login, register
from .purchase import (
    DECLINED_CARD, confirm, confirmed_and_ready, draft, in_status, new_vehicle, pay, wait_for_order,
)


def test_a_client_buys_a_car_end_to_end(edge, client_session, manager_session):
    vehicle = new_vehicle(edge, manager_session)
    order = draft(edge, client_session, vehicle, trim_id=vehicle["trim"].rpartition("/")[2])
    assert order["status"] == "ORDER_STATUS_DRAFT"
    assert order["customer"] == client_session["user"]["name"]
    assert order["total"] == order["price"]["total"]
    assert order["etag"] == "1"

    order = confirmed_and_ready(edge, client_session, vehicle)
    assert order["status"] == "ORDER_STATUS_CONFIRMED" and order["vehicle_reserved"]
    held = edge.get(f"/inventory/{vehicle['name']}").json()
    assert held["status"] == "VEHICLE_STATUS_RESERVED"
    assert held["reservation"]["order_id"] == order["name"]

    paid = pay(edge, client_session, order)
    assert paid.status_code == 200, paid.text
    payment = paid.json()
    assert payment["status"] == "PAYMENT_STATUS_COMPLETED"
    assert payment["card_last_four"] == "1111"
    assert payment["amount"] == order["total"]
    assert "4111111111111111" not in paid.text
    assert [change["to_status"] for change in payment["status_log"]] == [
        "PAYMENT_STATUS_PENDING", "PAYMENT_STATUS_PROCESSING", "PAYMENT_STATUS_COMPLETED"]

    order = wait_for_order(edge, client_session, order, in_status("ORDER_STATUS_PAID"))
    assert order["payment"] == payment["name"]
    sold = edge.get(f"/inventory/{vehicle['name']}").json()
    for _ in range(100):
        if sold["status"] == "VEHICLE_STATUS_SOLD":
            break
        sold = edge.get(f"/inventory/{vehicle['name']}").json()
    assert sold["status"] == "VEHICLE_STATUS_SOLD"

    refused = edge.post(f"/sales/{order['name']}:complete", headers=bearer(client_session), json={})
    assert refused.status_code == 403
    completed = edge.post(f"/sales/{order['name']}:complete", headers=bearer(manager_session), json={})
    assert completed.status_code == 200, completed.text
    assert completed.json()["status"] == "ORDER_STATUS_COMPLETED"

    history = edge.get(f"/sales/{order['name']}/history", headers=bearer(client_session)).json()["events"]
    types = [event["type"] for event in history]
    assert types[:3] == ["created", "confirmed", "vehicle_reserved"]
    assert types[-2:] == ["paid", "completed"]
    assert [int(event["version"]) for event in history] == list(range(1, len(history) + 1))
    assert history[0]["actor"] == client_session["user"]["name"]
    assert {event["actor"] for event in history} >= {"inventory", "payment"}

    profile = edge.get("/customers/me", headers=bearer(client_session))
    for _ in range(100):
        if int(profile.json().get("purchase_count", 0)) == 1:
            break
        profile = edge.get("/customers/me", headers=bearer(client_session))
    assert profile.json()["purchase_count"] == 1
    assert profile.json()["total_spent"]["amount"] == order["total"]["amount"]
    assert profile.json()["segment"] in ("buyer", "vip")


def test_a_declined_card_cancels_the_order_and_frees_the_car(edge, client_session, manager_session):
    vehicle = new_vehicle(edge, manager_session)
    order = confirmed_and_ready(edge, client_session, vehicle)
    paid = pay(edge, client_session, order, card=DECLINED_CARD)
    assert paid.status_code == 200, paid.text
    assert paid.json()["status"] == "PAYMENT_STATUS_FAILED"
    assert paid.json()["failure_reason"] == "card declined by issuer"
    cancelled = wait_for_order(edge, client_session, order, in_status("ORDER_STATUS_CANCELLED"))
    assert "payment failed" in cancelled["cancel_reason"]
    for _ in range(100):
        if edge.get(f"/inventory/{vehicle['name']}").json()["status"] == "VEHICLE_STATUS_AVAILABLE":
            break
    assert edge.get(f"/inventory/{vehicle['name']}").json()["status"] == "VEHICLE_STATUS_AVAILABLE"


def test_a_retried_payment_returns_the_first_and_charges_once(edge, client_session, manager_session):
    vehicle = new_vehicle(edge, manager_session)
    order = confirmed_and_ready(edge, client_session, vehicle)
    key = uuid.uuid4().hex
    first = pay(edge, client_session, order, key=key)
    again = pay(edge, client_session, order, key=key)
    assert first.status_code == again.status_code == 200, again.text
    assert first.json()["name"] == again.json()["name"]
    assert first.json()["transaction_id"] == again.json()["transaction_id"]
    other_key = pay(edge, client_session, order)
    assert other_key.status_code == 409, other_key.text
    listed = edge.get("/payments", params={"order": order["name"]}, headers=bearer(client_session)).json()
    assert len(listed["payments"]) == 1


def test_payment_input_is_checked(edge, client_session, manager_session):
    vehicle = new_vehicle(edge, manager_session)
    order = draft(edge, client_session, vehicle)
    no_key = edge.post("/payments", headers=bearer(client_session), json={
        "order_id": order["name"], "method": "PAYMENT_METHOD_CARD", "card_number": "4111111111111111"})
    assert no_key.status_code == 400
    assert "idempotency_key" in no_key.text
    bad_card = pay(edge, client_session, order, card="4111 1111 1111 1112")
    assert bad_card.status_code == 400
    assert "card_number" in bad_card.text and "4111" not in bad_card.text
    not_confirmed = pay(edge, client_session, order)
    assert not_confirmed.status_code == 400 and not_confirmed.json()["code"] == 9, not_confirmed.text
    assert "only a confirmed order can be paid" in not_confirmed.json()["message"]
    cash_with_card = pay(edge, client_session, order, method="PAYMENT_METHOD_CASH")
    assert cash_with_card.status_code == 400
    unknown_order = pay(edge, client_session, {"name": f"orders/{uuid.uuid4()}"})
    assert unknown_order.status_code == 404


def test_clients_see_only_their_own_orders_and_payments(edge, client_session, manager_session):
    vehicle = new_vehicle(edge, manager_session)
    order = draft(edge, client_session, vehicle)
    other = register(edge)
    stranger = login(edge, other["email"], STRONG_PASSWORD)
    assert edge.get(f"/sales/{order['name']}", headers=bearer(stranger)).status_code == 404
    assert edge.get(f"/sales/{order['name']}/history", headers=bearer(stranger)).status_code == 404
    assert confirm(edge, stranger, order).status_code == 404
    assert edge.get("/sales/orders", headers=bearer(stranger)).json().get("orders", []) == []
    mine = edge.get("/sales/orders", headers=bearer(client_session)).json()["orders"]
    assert [o["name"] for o in mine] == [order["name"]]
    assert edge.get(f"/sales/{order['name']}", headers=bearer(manager_session)).status_code == 200
    assert edge.get("/sales/orders").status_code == 401
