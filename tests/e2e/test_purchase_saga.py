"""The purchase saga end to end through the edge: order, confirm, reserve, pay, sell, hand over,
and every way it can fail and be compensated."""
import time
import uuid
from datetime import datetime, timedelta, timezone
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import grpc
import pytest

from autosalon.payment.v1 import payment_pb2, payment_pb2_grpc
from autosalon.sales.v1 import sales_pb2, sales_pb2_grpc

from .conftest import STRONG_PASSWORD, bearer, listed, login, register
from .test_auth_rest import offending_fields, violations
from .purchase import (
    DECLINED_CARD, confirm, confirmed_and_ready, create_order, draft, eventually, in_status, new_vehicle,
    pay, ready, vehicle_status, wait_for_order,
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
    eventually(lambda: vehicle_status(edge, vehicle) == "VEHICLE_STATUS_SOLD")

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

    def profile() -> dict:
        return edge.get("/customers/me", headers=bearer(client_session)).json()

    eventually(lambda: profile().get("purchase_count") == 1)
    assert profile()["total_spent"]["amount"] == order["total"]["amount"]
    assert profile()["segment"] in ("buyer", "vip")
    mine = edge.get("/customers/me/purchases", headers=bearer(client_session)).json()["purchases"]
    assert [(p["order"], p["vehicle"], p["total"]) for p in mine] == [(order["name"], vehicle["name"], order["total"])]
    assert mine[0]["vehicle_title"].startswith("Lada Vesta") and mine[0]["complete_time"]
    staff_view = edge.get(f"/{profile()['name']}/purchases", headers=bearer(manager_session)).json()
    assert staff_view["purchases"] == mine


@pytest.mark.parametrize("card, reason, code", [
    (DECLINED_CARD, "card declined by issuer", "CARD_DECLINED"),
    ("4000000000009995", "insufficient funds", "INSUFFICIENT_FUNDS"),
], ids=["declined", "insufficient-funds"])
def test_a_declined_card_cancels_the_order_and_frees_the_car(edge, client_session, manager_session, card, reason,
                                                             code):
    vehicle = new_vehicle(edge, manager_session)
    order = confirmed_and_ready(edge, client_session, vehicle)
    paid = pay(edge, client_session, order, card=card)
    assert paid.status_code == 200, paid.text
    assert paid.json()["status"] == "PAYMENT_STATUS_FAILED"
    assert (paid.json()["failure_reason"], paid.json()["failure_code"]) == (reason, code)
    cancelled = wait_for_order(edge, client_session, order, in_status("ORDER_STATUS_CANCELLED"))
    assert "payment failed" in cancelled["cancel_reason"]
    eventually(lambda: vehicle_status(edge, vehicle) == "VEHICLE_STATUS_AVAILABLE")


def _cancel(edge, buyer: dict, order: dict):
    # A 409 means the saga changed the order at that very moment (payment succeeded, then paid):
    # a client reads it again and retries.
    for _ in range(5):
        response = edge.post(f"/sales/{order['name']}:cancel", headers=bearer(buyer),
                             json={"reason": "changed my mind"})
        if response.status_code != 409:
            break
    return response


def test_a_customer_never_pays_for_an_order_cancelled_as_the_payment_lands(edge, client_session, manager_session):
    """Pay and cancel at once. Whichever wins, no money stays with a cancelled order: the payment
    is refused, or never charged, or refunded (and the order's history says so); or the
    payment won and the cancel is refused."""
    outcomes = []
    for _ in range(4):
        order = confirmed_and_ready(edge, client_session, new_vehicle(edge, manager_session))
        with ThreadPoolExecutor(2) as pool:
            paying = pool.submit(pay, edge, client_session, order)
            time.sleep(0.02)
            cancel = _cancel(edge, client_session, order)
            paid = paying.result()
        if cancel.status_code != 200:
            assert cancel.status_code == 400 and "paid" in cancel.text, cancel.text
            assert wait_for_order(edge, client_session, order, in_status("ORDER_STATUS_PAID"))
            assert paid.json()["status"] == "PAYMENT_STATUS_COMPLETED"
            outcomes.append("paid")
            continue
        if paid.status_code != 200:
            assert paid.status_code == 400 and "cancelled" in paid.text, paid.text
            outcomes.append("payment refused")
            continue
        payment = lambda: edge.get(f"/{paid.json()['name']}", headers=bearer(client_session)).json()
        eventually(lambda: payment()["status"] in ("PAYMENT_STATUS_CANCELLED", "PAYMENT_STATUS_REFUNDED"))
        outcomes.append(payment()["status"])
        if payment()["status"] == "PAYMENT_STATUS_REFUNDED":
            assert payment()["refund_reference"].startswith("RF-")
            history = lambda: edge.get(f"/sales/{order['name']}/history", headers=bearer(client_session)).json()
            eventually(lambda: history()["events"][-1]["type"] == "payment_refunded")
        assert wait_for_order(edge, client_session, order, ready)["status"] == "ORDER_STATUS_CANCELLED"
    assert len(outcomes) == 4, outcomes


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
    # The key with another order: refused, not answered with the first payment.
    draft_order = draft(edge, client_session, new_vehicle(edge, manager_session))
    reused = pay(edge, client_session, draft_order, key=key)
    assert reused.status_code == 400 and offending_fields(reused) == {"idempotency_key"}, reused.text


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
    assert listed(edge, "/sales/orders", "orders", bearer(stranger)) == []
    mine = edge.get("/sales/orders", headers=bearer(client_session)).json()["orders"]
    assert [o["name"] for o in mine] == [order["name"]]
    assert edge.get(f"/sales/{order['name']}", headers=bearer(manager_session)).status_code == 200
    assert edge.get("/sales/orders").status_code == 401


def test_a_stranger_neither_sees_nor_pays_anothers_order(edge, client_session, manager_session):
    order = confirmed_and_ready(edge, client_session, new_vehicle(edge, manager_session))
    other = register(edge)
    stranger = login(edge, other["email"], STRONG_PASSWORD)
    paying_for_them = pay(edge, stranger, order)
    assert paying_for_them.status_code == 404, paying_for_them.text
    paid = pay(edge, client_session, order)
    assert paid.status_code == 200, paid.text
    name = paid.json()["name"]
    assert edge.get(f"/{name}", headers=bearer(stranger)).status_code == 404
    assert edge.get(f"/{name}", headers=bearer(client_session)).status_code == 200
    assert edge.get(f"/{name}", headers=bearer(manager_session)).status_code == 200
    assert listed(edge, "/payments", "payments", bearer(stranger)) == []
    assert edge.get(f"/payments/{uuid.uuid4()}", headers=bearer(manager_session)).status_code == 404
    malformed = edge.get("/payments/not-a-uuid", headers=bearer(manager_session))
    assert malformed.status_code == 400 and "name" in malformed.text


def test_a_stranger_cannot_touch_an_order_and_unknown_orders_are_404(edge, client_session, manager_session):
    order = draft(edge, client_session, new_vehicle(edge, manager_session))
    other = register(edge)
    stranger = bearer(login(edge, other["email"], STRONG_PASSWORD))
    edit = {"params": {"update_mask": "notes"}, "json": {"notes": "mine now"}}
    assert edge.patch(f"/sales/{order['name']}", headers=stranger, **edit).status_code == 404
    assert edge.delete(f"/sales/{order['name']}", headers=stranger).status_code == 404
    assert edge.post(f"/sales/{order['name']}:cancel", headers=stranger,
                     json={"reason": "not mine"}).status_code == 404
    assert edge.post(f"/sales/{order['name']}:complete", headers=bearer(client_session),
                     json={}).status_code == 403  # hand-over is the staff's
    ghost = f"orders/{uuid.uuid4()}"
    staff = bearer(manager_session)
    assert edge.get(f"/sales/{ghost}", headers=staff).status_code == 404
    assert edge.get(f"/sales/{ghost}/history", headers=staff).status_code == 404
    assert edge.post(f"/sales/{ghost}:complete", headers=staff, json={}).status_code == 404
    assert edge.patch(f"/sales/{ghost}", headers=staff, **edit).status_code == 404
    malformed = edge.get("/sales/orders/not-a-uuid", headers=staff)
    assert malformed.status_code == 400 and "name" in malformed.text
    untouched = edge.get(f"/sales/{order['name']}", headers=bearer(client_session)).json()
    assert untouched["status"] == "ORDER_STATUS_DRAFT" and untouched.get("notes", "") == ""


def _promo_code(edge, manager: dict, limit: int) -> str:
    code = f"S{uuid.uuid4().hex[:8].upper()}"
    created = edge.post("/pricing/discounts", headers=bearer(manager), json={
        "title": "Saga 5 %", "kind": "DISCOUNT_KIND_PERCENTAGE", "value": "5", "code": code,
        "stackable": True, "usage_limit": limit})
    assert created.status_code == 200, created.text
    return code


def _used(edge, manager: dict, code: str) -> int:
    found = edge.get("/pricing/discounts", params={"page_size": 100}, headers=bearer(manager)).json()
    return next(int(d.get("used_count", 0)) for d in found["discounts"] if d.get("code") == code)


def test_a_promo_code_is_taken_on_confirm_and_given_back_once_on_cancel(edge, client_session, manager_session):
    code = _promo_code(edge, manager_session, limit=3)
    vehicle = new_vehicle(edge, manager_session)
    order = confirmed_and_ready(edge, client_session, vehicle, promo_code=code.lower())
    assert order["promo_code"] == code and order["promo_code_redeemed"]
    assert any(line.get("discount") for line in order["price"]["lines"])
    assert _used(edge, manager_session, code) == 1
    cancelled = edge.post(f"/sales/{order['name']}:cancel", headers=bearer(client_session),
                          json={"reason": "changed my mind"})
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["cancel_reason"] == "changed my mind"
    eventually(lambda: _used(edge, manager_session, code) == 0)
    again = edge.post(f"/sales/{order['name']}:cancel", headers=bearer(client_session), json={"reason": "twice"})
    assert again.status_code == 400 and again.json()["code"] == 9
    assert "order is cancelled; it cannot become cancelled" in again.json()["message"]
    assert _used(edge, manager_session, code) == 0
    eventually(lambda: vehicle_status(edge, vehicle) == "VEHICLE_STATUS_AVAILABLE")


def test_a_promo_code_that_does_not_apply_is_refused_at_create(edge, client_session, manager_session):
    vehicle = new_vehicle(edge, manager_session)
    response = edge.post("/sales/orders", headers=bearer(client_session),
                         json={"vehicle_id": vehicle["name"], "promo_code": "NO-SUCH-CODE"})
    assert response.status_code == 400
    assert "promo_code" in response.text


def _race(calls):
    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(lambda call: call(), calls))


def test_a_promo_code_with_limit_one_raced_by_two_orders(edge, manager_session):
    code = _promo_code(edge, manager_session, limit=1)
    buyers = [login(edge, register(edge)["email"], STRONG_PASSWORD) for _ in range(2)]
    orders = [draft(edge, buyer, new_vehicle(edge, manager_session), promo_code=code) for buyer in buyers]
    confirmed = _race([lambda b=b, o=o: confirm(edge, b, o) for b, o in zip(buyers, orders)])
    assert [response.status_code for response in confirmed] == [200, 200]
    settled = [wait_for_order(edge, b, o, ready) for b, o in zip(buyers, orders)]
    statuses = sorted(order["status"] for order in settled)
    assert statuses == ["ORDER_STATUS_CANCELLED", "ORDER_STATUS_CONFIRMED"]
    loser = next(order for order in settled if order["status"] == "ORDER_STATUS_CANCELLED")
    assert code in loser["cancel_reason"] and "used up" in loser["cancel_reason"]
    assert _used(edge, manager_session, code) == 1


def test_two_customers_racing_for_one_car(edge, manager_session):
    vehicle = new_vehicle(edge, manager_session)
    buyers = [login(edge, register(edge)["email"], STRONG_PASSWORD) for _ in range(2)]
    orders = [draft(edge, buyer, vehicle) for buyer in buyers]
    _race([lambda b=b, o=o: confirm(edge, b, o) for b, o in zip(buyers, orders)])
    settled = [wait_for_order(edge, b, o, ready) for b, o in zip(buyers, orders)]
    assert sorted(order["status"] for order in settled) == ["ORDER_STATUS_CANCELLED", "ORDER_STATUS_CONFIRMED"]
    winner = next(order for order in settled if order["status"] == "ORDER_STATUS_CONFIRMED")
    loser = next(order for order in settled if order["status"] == "ORDER_STATUS_CANCELLED")
    assert "could not be reserved" in loser["cancel_reason"]
    held = edge.get(f"/inventory/{vehicle['name']}").json()
    assert held["reservation"]["order_id"] == winner["name"]
    late = create_order(edge, buyers[0], vehicle)
    assert late.status_code == 400 and late.json()["code"] == 9


def test_concurrent_updates_of_one_order_one_gets_409(edge, client_session, manager_session):
    order = draft(edge, client_session, new_vehicle(edge, manager_session))

    def update(notes: str):
        return lambda: edge.patch(f"/sales/{order['name']}", params={"update_mask": "notes"},
                                  headers=bearer(client_session), json={"notes": notes, "etag": order["etag"]})

    results = _race([update("first"), update("second")])
    assert sorted(response.status_code for response in results) == [200, 409]
    conflict = next(response for response in results if response.status_code == 409)
    assert conflict.json()["code"] == 10  # ABORTED
    current = edge.get(f"/sales/{order['name']}", headers=bearer(client_session)).json()
    assert current["etag"] == "2" and current["notes"] in ("first", "second")
    stale = edge.post(f"/sales/{order['name']}:confirm", headers=bearer(client_session), json={"etag": "1"})
    assert stale.status_code == 409
    history = edge.get(f"/sales/{order['name']}/history", headers=bearer(client_session)).json()["events"]
    assert [event["type"] for event in history] == ["created", "updated"]


def test_a_stale_etag_cancels_deletes_and_completes_nothing(edge, client_session, manager_session):
    """Cancel, delete and complete each take the etag: one someone else's change made stale is
    refused with ABORTED before anything else is looked at (even the state, for complete)."""
    client, staff = bearer(client_session), bearer(manager_session)
    order = draft(edge, client_session, new_vehicle(edge, manager_session))
    url, stale = f"/sales/{order['name']}", order["etag"]
    edited = edge.patch(url, params={"update_mask": "notes"}, headers=client,
                        json={"notes": "deliver Friday", "etag": stale})
    assert edited.status_code == 200, edited.text
    current = edited.json()
    assert (stale, current["etag"]) == ("1", "2")

    refused = {
        "cancel": edge.post(f"{url}:cancel", headers=client, json={"reason": "changed my mind", "etag": stale}),
        "delete": edge.delete(url, params={"etag": stale}, headers=client),
        "complete": edge.post(f"{url}:complete", headers=staff, json={"etag": stale}),
    }
    for action, response in refused.items():
        assert response.status_code == 409, f"{action}: {response.text}"
        assert response.json()["code"] == 10, action  # ABORTED
        assert f"{order['name']} is at version 2, not 1" in response.json()["message"], action

    not_an_etag = edge.post(f"{url}:cancel", headers=client, json={"reason": "x", "etag": "v1" * 2000})
    assert not_an_etag.status_code == 400 and "etag" in violations(not_an_etag), not_an_etag.text[:300]
    assert len(not_an_etag.text) < 1000, "the refusal does not echo what it refused"

    after = edge.get(url, headers=client).json()
    assert (after["status"], after["etag"], after["notes"]) == ("ORDER_STATUS_DRAFT", "2", "deliver Friday")
    assert after == current
    history = edge.get(f"{url}/history", headers=client).json()["events"]
    assert [event["type"] for event in history] == ["created", "updated"]
    # With the etag it has now, the same calls get past the check: complete is then refused
    # for the state, and delete goes through.
    early = edge.post(f"{url}:complete", headers=staff, json={"etag": "2"})
    assert early.status_code == 400 and early.json()["code"] == 9, early.text
    assert edge.delete(url, params={"etag": "2"}, headers=client).status_code == 200
    assert edge.get(url, headers=client).status_code == 404


def test_a_stale_etag_does_not_hand_over_a_paid_order(edge, client_session, manager_session):
    order = confirmed_and_ready(edge, client_session, new_vehicle(edge, manager_session))
    paid = pay(edge, client_session, order)
    assert paid.status_code == 200, paid.text
    order = wait_for_order(edge, client_session, order, in_status("ORDER_STATUS_PAID"))
    url, staff, etag = f"/sales/{order['name']}", bearer(manager_session), order["etag"]
    stale = str(int(etag) - 1)
    refused = edge.post(f"{url}:complete", headers=staff, json={"etag": stale})
    assert refused.status_code == 409, refused.text
    assert refused.json()["code"] == 10  # ABORTED
    assert f"is at version {etag}, not {stale}" in refused.json()["message"]
    still = edge.get(url, headers=staff).json()
    assert (still["status"], still["etag"]) == ("ORDER_STATUS_PAID", etag)
    assert edge.get(f"{url}/history", headers=staff).json()["events"][-1]["type"] == "paid"
    completed = edge.post(f"{url}:complete", headers=staff, json={"etag": etag})
    assert completed.status_code == 200, completed.text
    assert (completed.json()["status"], completed.json()["etag"]) == ("ORDER_STATUS_COMPLETED", str(int(etag) + 1))


@pytest.mark.parametrize(
    "path, params, field",
    [
        ("/sales/orders", {"page_token": "garbage"}, "page_token"),
        ("/sales/orders", {"page_size": -1}, "page_size"),
        ("/sales/orders", {"status": "ORDER_STATUS_NOPE"}, "status"),
        ("/sales/orders", {"customer": "nonsense"}, "customer"),
        ("/payments", {"page_token": "garbage"}, "page_token"),
        ("/payments", {"page_size": -1}, "page_size"),
    ],
    ids=["orders-garbage-token", "orders-negative-size", "orders-unknown-status", "orders-malformed-customer",
         "payments-garbage-token", "payments-negative-size"],
)
def test_bad_order_and_payment_list_queries_are_400_with_the_field(edge, manager_session, path, params, field):
    response = edge.get(path, params=params, headers=bearer(manager_session))
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/json"), response.text
    assert field in offending_fields(response)


def test_illegal_transitions_name_both_states(edge, client_session, manager_session):
    order = draft(edge, client_session, new_vehicle(edge, manager_session))
    early = edge.post(f"/sales/{order['name']}:complete", headers=bearer(manager_session), json={})
    assert early.status_code == 400 and early.json()["code"] == 9
    assert "order is draft" in early.json()["message"] and "paid" in early.json()["message"]
    assert confirm(edge, client_session, order).status_code == 200
    again = confirm(edge, client_session, order)
    assert again.status_code == 400 and "order is confirmed; it cannot become confirmed" in again.json()["message"]
    edit = edge.patch(f"/sales/{order['name']}", params={"update_mask": "notes"},
                      headers=bearer(client_session), json={"notes": "late"})
    assert edit.status_code == 400 and "only a draft can be changed" in edit.json()["message"]
    delete = edge.delete(f"/sales/{order['name']}", headers=bearer(client_session))
    assert delete.status_code == 400 and "only a draft can be deleted" in delete.json()["message"]


def test_order_input_is_checked(edge, client_session, manager_session):
    vehicle = new_vehicle(edge, manager_session)
    bad_vehicle = edge.post("/sales/orders", headers=bearer(client_session), json={"vehicle_id": "nope"})
    assert bad_vehicle.status_code == 400 and "vehicle_id" in bad_vehicle.text
    missing = edge.post("/sales/orders", headers=bearer(client_session), json={"vehicle_id": str(uuid.uuid4())})
    assert missing.status_code == 404
    wrong_trim = create_order(edge, client_session, vehicle, trim_id=str(uuid.uuid4()))
    assert wrong_trim.status_code == 400 and "trim_id" in wrong_trim.text
    unknown_field = create_order(edge, client_session, vehicle, colour="red")
    assert unknown_field.status_code == 400
    bad_option = create_order(edge, client_session, vehicle, options=[{"name": "rocket booster"}])
    assert bad_option.status_code == 400 and "options[0].name" in violations(bad_option)
    for_someone_else = create_order(edge, client_session, vehicle, customer=f"users/{uuid.uuid4()}")
    assert for_someone_else.status_code == 400
    no_reason = edge.post(f"/sales/{draft(edge, client_session, vehicle)['name']}:cancel",
                          headers=bearer(client_session), json={})
    assert no_reason.status_code == 400 and "reason" in no_reason.text


def test_a_draft_is_updated_repriced_and_deleted(edge, client_session, manager_session):
    order = draft(edge, client_session, new_vehicle(edge, manager_session))
    updated = edge.patch(f"/sales/{order['name']}", params={"update_mask": "options,notes"},
                         headers=bearer(client_session),
                         json={"notes": "deliver Friday", "options": [{"name": "tow bar", "price": {"amount": "0.00"}}]})
    assert updated.status_code == 200, updated.text
    body = updated.json()
    assert body["notes"] == "deliver Friday"
    # The catalogue's price for the tow bar, not the client's.
    assert body["options"] == [{"name": "tow bar", "price": {"currency_code": "RUB", "amount": "35000.00"}}]
    assert Decimal(body["total"]["amount"]) == Decimal(order["total"]["amount"]) + 35000
    assert edge.delete(f"/sales/{order['name']}", headers=bearer(client_session)).status_code == 200
    assert edge.get(f"/sales/{order['name']}", headers=bearer(client_session)).status_code == 404


def test_idempotent_order_creation(edge, client_session, manager_session):
    vehicle = new_vehicle(edge, manager_session)
    key = {"Idempotency-Key": uuid.uuid4().hex, **bearer(client_session)}
    body = {"vehicle_id": vehicle["name"]}
    first = edge.post("/sales/orders", headers=key, json=body)
    second = edge.post("/sales/orders", headers=key, json=body)
    assert first.status_code == second.status_code == 200
    assert first.json()["name"] == second.json()["name"]


async def test_sales_over_native_grpc(edge_channel, client_session, manager_session, edge):
    vehicle = new_vehicle(edge, manager_session)
    stub = sales_pb2_grpc.SalesServiceStub(edge_channel)
    metadata = (("authorization", f"Bearer {client_session['access_token']}"),
                ("idempotency-key", uuid.uuid4().hex))
    order = await stub.CreateOrder(sales_pb2.CreateOrderRequest(vehicle_id=vehicle["name"]), metadata=metadata)
    assert order.status == sales_pb2.ORDER_STATUS_DRAFT
    again = await stub.CreateOrder(sales_pb2.CreateOrderRequest(vehicle_id=vehicle["name"]), metadata=metadata)
    assert again.name == order.name
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await stub.ConfirmOrder(sales_pb2.ConfirmOrderRequest(name=order.name, etag="7"), metadata=metadata[:1])
    assert refused.value.code() == grpc.StatusCode.ABORTED
    payments = payment_pb2_grpc.PaymentServiceStub(edge_channel)
    with pytest.raises(grpc.aio.AioRpcError) as no_key:
        await payments.CreatePayment(payment_pb2.CreatePaymentRequest(
            order_id=order.name, method=payment_pb2.PAYMENT_METHOD_CASH), metadata=metadata[:1])
    assert no_key.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_a_used_car_with_its_own_price_is_ordered_at_that_price(edge, client_session, manager_session):
    vehicle = new_vehicle(edge, manager_session)
    repriced = edge.patch(f"/inventory/{vehicle['name']}", params={"update_mask": "price_override"},
                          headers=bearer(manager_session), json={"price_override": {"amount": "987654.32"}})
    assert repriced.status_code == 200, repriced.text
    order = draft(edge, client_session, vehicle)
    assert order["total"]["amount"] == "987654.32"
    assert [line["label"] for line in order["price"]["lines"]] == ["vehicle price"]


def test_purchase_history_is_the_buyers_own(edge, client_session, manager_session):
    eventually(lambda: edge.get("/customers/me", headers=bearer(client_session)).status_code == 200)
    own = edge.get("/customers/me", headers=bearer(client_session)).json()["name"]
    assert edge.get(f"/{own}/purchases", headers=bearer(client_session)).json() == {
        "purchases": [], "next_page_token": ""}
    other = register(edge)
    other_session = login(edge, other["email"], STRONG_PASSWORD)
    assert edge.get(f"/{own}/purchases", headers=bearer(other_session)).status_code == 404
    assert edge.get(f"/customers/{uuid.uuid4()}/purchases", headers=bearer(manager_session)).status_code == 404
    assert edge.get("/customers/nonsense/purchases", headers=bearer(manager_session)).status_code == 400
    assert edge.get(f"/{own}/purchases").status_code == 401
    bad_token = edge.get(f"/{own}/purchases", params={"page_token": "garbage"}, headers=bearer(client_session))
    assert bad_token.status_code == 400


def test_staff_settle_a_bank_transfer_step_by_step_and_only_staff_may(edge, client_session, manager_session):
    order = confirmed_and_ready(edge, client_session, new_vehicle(edge, manager_session))
    created = pay(edge, client_session, order, card="", method="PAYMENT_METHOD_BANK_TRANSFER")
    assert created.status_code == 200, created.text
    payment = created.json()
    assert payment["status"] == "PAYMENT_STATUS_PENDING" and payment["card_last_four"] == ""
    url = f"/{payment['name']}:updateStatus"

    def move(who: dict, **body):
        return edge.post(url, json=body, headers=bearer(who))

    assert edge.post(url, json={"status": "PAYMENT_STATUS_PROCESSING"}).status_code == 401
    assert move(client_session, status="PAYMENT_STATUS_PROCESSING").status_code == 403
    skipped = move(manager_session, status="PAYMENT_STATUS_COMPLETED")
    assert skipped.status_code == 400 and "pending" in skipped.text and "completed" in skipped.text
    assert move(manager_session, status="PAYMENT_STATUS_UNSPECIFIED").status_code == 400
    assert move(manager_session, status="PAYMENT_STATUS_REFUNDING").status_code == 400
    assert edge.post(f"/payments/{uuid.uuid4()}:updateStatus", json={"status": "PAYMENT_STATUS_PROCESSING"},
                     headers=bearer(manager_session)).status_code == 404
    assert move(manager_session, status="PAYMENT_STATUS_PROCESSING").status_code == 200
    done = move(manager_session, status="PAYMENT_STATUS_COMPLETED", bank_reference="BT-2026-1125")
    assert done.status_code == 200, done.text
    assert (done.json()["status"], done.json()["bank_reference"]) == ("PAYMENT_STATUS_COMPLETED", "BT-2026-1125")
    assert wait_for_order(edge, client_session, order, in_status("ORDER_STATUS_PAID"))["payment"] == payment["name"]


def test_payment_stats_and_lists_check_who_asks_and_what(edge, client_session, manager_session):
    assert edge.get("/payments/stats").status_code == 401
    assert edge.get("/payments/stats", headers=bearer(client_session)).status_code == 403
    backwards = edge.get("/payments/stats", headers=bearer(manager_session), params={
        "start_time": "2026-11-25T10:00:00Z", "end_time": "2026-11-25T09:00:00Z"})
    assert backwards.status_code == 400 and "end_time" in violations(backwards)
    # Two known payments, alone in a window of time: the figures are exactly theirs.
    start = datetime.now(timezone.utc) - timedelta(milliseconds=1)
    by_card = confirmed_and_ready(edge, client_session, new_vehicle(edge, manager_session))
    by_cash = confirmed_and_ready(edge, client_session, new_vehicle(edge, manager_session))
    assert pay(edge, client_session, by_card).json()["status"] == "PAYMENT_STATUS_COMPLETED"
    assert pay(edge, client_session, by_cash, card="", method="PAYMENT_METHOD_CASH").json()["status"] == \
        "PAYMENT_STATUS_PENDING"
    end = datetime.now(timezone.utc) + timedelta(milliseconds=1)
    window = {"start_time": start.isoformat().replace("+00:00", "Z"), "end_time": end.isoformat().replace("+00:00", "Z")}
    stats = edge.get("/payments/stats", headers=bearer(manager_session), params=window)
    assert stats.status_code == 200, stats.text
    stats = stats.json()
    card_total = by_card["total"]["amount"]
    assert stats["total_count"] == 2 and stats["amount_completed"]["amount"] == card_total
    by_status = {figure["status"]: (figure.get("count", 0), figure["amount"]["amount"]) for figure in stats["by_status"]}
    assert by_status["PAYMENT_STATUS_COMPLETED"] == (1, card_total)
    assert by_status["PAYMENT_STATUS_PENDING"] == (1, by_cash["total"]["amount"])
    assert sum(count for count, _ in by_status.values()) == 2
    by_method = {figure["method"]: (figure.get("count", 0), figure["amount_completed"]["amount"])
                 for figure in stats["by_method"]}
    assert by_method["PAYMENT_METHOD_CARD"] == (1, card_total) and by_method["PAYMENT_METHOD_CASH"][0] == 1
    assert stats.get("queued_for_gateway", 0) == 0
    assert edge.get("/payments", params={"status": "PAYMENT_STATUS_NOPE"},
                    headers=bearer(client_session)).status_code == 400
    bad_order = edge.get("/payments", params={"order": "nonsense"}, headers=bearer(client_session))
    assert bad_order.status_code == 400 and "order" in violations(bad_order)
    assert edge.get("/payments").status_code == 401


def test_an_order_refused_by_pricing_names_the_field(edge, client_session, manager_session):
    vehicle = new_vehicle(edge, manager_session)
    for option, field in (({"name": " ", "price": {"amount": "1000"}}, "options[0].name"),
                          ({"name": "sunroof", "price": {"amount": "1"}}, "options[0].name")):
        response = create_order(edge, client_session, vehicle, options=[option])
        assert response.status_code == 400, response.text
        assert field in violations(response), response.text
    assert listed(edge, "/sales/orders", "orders", bearer(client_session)) == []


def test_a_customer_holds_at_most_two_cars_unpaid(edge, client_session, manager_session):
    """Each confirmed order holds its car until paid: a third is refused (409) naming the two
    held, until one of them is cancelled."""
    orders = [draft(edge, client_session, new_vehicle(edge, manager_session)) for _ in range(3)]
    for order in orders[:2]:
        assert confirm(edge, client_session, order).status_code == 200
    third = confirm(edge, client_session, orders[2])
    assert third.status_code == 409, third.text
    assert "already hold 2 cars" in third.json()["message"]
    assert orders[0]["name"] in third.json()["message"] and orders[1]["name"] in third.json()["message"]
    assert edge.get(f"/sales/{orders[2]['name']}", headers=bearer(client_session)).json()["status"] == "ORDER_STATUS_DRAFT"
    cancelled = edge.post(f"/sales/{orders[0]['name']}:cancel", headers=bearer(client_session), json={"reason": "one is enough"})
    assert cancelled.status_code == 200, cancelled.text
    assert confirm(edge, client_session, orders[2]).status_code == 200
