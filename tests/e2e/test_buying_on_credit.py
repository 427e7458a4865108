"""Buying a car on credit through the edge: an active loan made for the order pays its amount,
a card the down payment, and the order is paid when its completed payments reach its total;
payments never add up to more than it."""
import time
import uuid
from decimal import Decimal

from .conftest import bearer, json_detail
from .purchase import confirmed_and_ready, in_status, new_vehicle, vehicle_status, wait_for_order

GOOD_CARD = "4111 1111 1111 1111"
# The bank emulator scores this passport 760 (excellent).
PASSPORT = "4510 000460"


def _pay(edge, who: dict, order: dict, method: str, **fields):
    return edge.post("/payments", headers={**bearer(who), "Idempotency-Key": uuid.uuid4().hex},
                     json={"order_id": order["name"], "method": method, **fields})


def _loan(edge, buyer: dict, manager: dict, order: dict, down: Decimal, activate: bool = True) -> dict:
    """An application for the order's total less `down`, approved by the rules (and activated)."""
    total = Decimal(order["price"]["total"]["amount"])
    created = edge.post("/financing/applications", headers=bearer(buyer), json={
        "order": order["name"], "financing_type": "FINANCING_TYPE_CAR_LOAN",
        "vehicle_price": {"amount": str(total)}, "down_payment": {"amount": str(down)}, "term_months": 60,
        "employment_status": "EMPLOYMENT_STATUS_EMPLOYED", "monthly_income": {"amount": str(total)},
        "passport_number": PASSPORT, "birth_date": "1985-03-01"})
    assert created.status_code == 200, created.text
    name = created.json()["name"]
    assert edge.post(f"/financing/{name}:submit", headers=bearer(buyer), json={}).status_code == 200
    deadline = time.monotonic() + 30
    while (application := edge.get(f"/financing/{name}", headers=bearer(buyer)).json())["status"] in (
            "APPLICATION_STATUS_DRAFT", "APPLICATION_STATUS_SUBMITTED"):
        assert time.monotonic() < deadline, "the bank's check never came"
        time.sleep(0.2)
    assert application["status"] == "APPLICATION_STATUS_APPROVED", application
    if activate:
        activated = edge.post(f"/financing/{name}:activate", headers=bearer(manager), json={})
        assert activated.status_code == 200, activated.text
        application = activated.json()
    return application


def test_a_purchase_paid_by_an_active_loan_and_a_card_down_payment_completes_and_the_car_is_sold(
        edge, client_session, manager_session):
    vehicle = new_vehicle(edge, manager_session)
    order = confirmed_and_ready(edge, client_session, vehicle)
    total = Decimal(order["price"]["total"]["amount"])
    down = (total * Decimal("0.2")).quantize(Decimal("0.01"))
    loan = _loan(edge, client_session, manager_session, order, down)
    credit = _pay(edge, client_session, order, "PAYMENT_METHOD_CREDIT", application=loan["name"])
    assert credit.status_code == 200, credit.text
    assert credit.json()["status"] == "PAYMENT_STATUS_COMPLETED"
    assert Decimal(credit.json()["amount"]["amount"]) == total - down
    assert credit.json()["application"] == loan["name"]
    # The loan alone does not pay the order.
    assert edge.get(f"/sales/{order['name']}", headers=bearer(client_session)).json()["status"] == \
        "ORDER_STATUS_CONFIRMED"
    card = _pay(edge, client_session, order, "PAYMENT_METHOD_CARD", card_number=GOOD_CARD)
    assert card.status_code == 200, card.text
    assert Decimal(card.json()["amount"]["amount"]) == down
    wait_for_order(edge, client_session, order, in_status("ORDER_STATUS_PAID"), seconds=30)
    completed = edge.post(f"/sales/{order['name']}:complete", headers=bearer(manager_session), json={})
    assert completed.status_code == 200, completed.text
    assert vehicle_status(edge, vehicle) == "VEHICLE_STATUS_SOLD"
    payments = edge.get("/payments", params={"order": order["name"]}, headers=bearer(client_session)).json()
    assert sum(Decimal(payment["amount"]["amount"]) for payment in payments["payments"]) == total


def test_a_loan_not_yet_active_cannot_pay_and_the_order_stays_payable_by_other_means(
        edge, client_session, manager_session):
    order = confirmed_and_ready(edge, client_session, new_vehicle(edge, manager_session))
    loan = _loan(edge, client_session, manager_session, order, Decimal("100000.00"), activate=False)
    refused = _pay(edge, client_session, order, "PAYMENT_METHOD_CREDIT", application=loan["name"])
    assert refused.status_code == 400 and refused.json()["code"] == 9, refused.text
    assert "only an active loan pays" in refused.json()["message"]
    assert edge.get("/payments", params={"order": order["name"]}, headers=bearer(client_session)).json().get(
        "payments", []) == []
    paid = _pay(edge, client_session, order, "PAYMENT_METHOD_CARD", card_number=GOOD_CARD)
    assert paid.status_code == 200 and paid.json()["status"] == "PAYMENT_STATUS_COMPLETED", paid.text
    wait_for_order(edge, client_session, order, in_status("ORDER_STATUS_PAID"), seconds=30)


def test_parts_never_add_up_to_more_than_the_total(edge, client_session, manager_session):
    order = confirmed_and_ready(edge, client_session, new_vehicle(edge, manager_session))
    total = Decimal(order["price"]["total"]["amount"])
    cash = _pay(edge, client_session, order, "PAYMENT_METHOD_CASH", amount={"amount": "100000.00"})
    assert cash.status_code == 200 and cash.json()["status"] == "PAYMENT_STATUS_PENDING", cash.text
    too_much = _pay(edge, client_session, order, "PAYMENT_METHOD_CARD", card_number=GOOD_CARD,
                    amount={"amount": str(total)})
    assert too_much.status_code == 400 and too_much.json()["code"] == 9, too_much.text
    assert f"has {total - Decimal('100000.00')} left to pay" in too_much.json()["message"]
    rest = _pay(edge, client_session, order, "PAYMENT_METHOD_CARD", card_number=GOOD_CARD)
    assert rest.status_code == 200 and Decimal(rest.json()["amount"]["amount"]) == total - Decimal("100000.00")
    more = _pay(edge, client_session, order, "PAYMENT_METHOD_CARD", card_number=GOOD_CARD)
    assert more.status_code == 409, more.text
    # The cash is not in yet: the order waits for it, then is paid.
    assert edge.get(f"/sales/{order['name']}", headers=bearer(client_session)).json()["status"] == \
        "ORDER_STATUS_CONFIRMED"
    confirmed = edge.post(f"/{cash.json()['name']}:updateStatus", headers=bearer(manager_session),
                          json={"status": "PAYMENT_STATUS_PROCESSING"})
    assert confirmed.status_code == 200, confirmed.text
    received = edge.post(f"/{cash.json()['name']}:updateStatus", headers=bearer(manager_session),
                         json={"status": "PAYMENT_STATUS_COMPLETED"})
    assert received.status_code == 200, received.text
    wait_for_order(edge, client_session, order, in_status("ORDER_STATUS_PAID"), seconds=30)


def test_another_clients_loan_cannot_pay_an_order(edge, client_session, manager_session):
    from .conftest import login, register
    other = register(edge)
    other_session = login(edge, other["email"], "Correct-Horse-42")
    order = confirmed_and_ready(edge, client_session, new_vehicle(edge, manager_session))
    theirs = edge.post("/financing/applications", headers=bearer(other_session), json={
        "financing_type": "FINANCING_TYPE_CAR_LOAN", "vehicle_price": {"amount": "2000000"},
        "term_months": 36, "employment_status": "EMPLOYMENT_STATUS_EMPLOYED", "monthly_income": {"amount": "900000"}})
    assert theirs.status_code == 200, theirs.text
    refused = _pay(edge, client_session, order, "PAYMENT_METHOD_CREDIT", application=theirs.json()["name"])
    assert refused.status_code == 404, refused.text


def test_a_credit_payment_names_its_loan_and_only_it_does(edge, client_session, manager_session):
    order = confirmed_and_ready(edge, client_session, new_vehicle(edge, manager_session))
    for method, fields in (("PAYMENT_METHOD_CREDIT", {}), ("PAYMENT_METHOD_CARD", {
            "card_number": GOOD_CARD, "application": f"applications/{uuid.uuid4()}"})):
        refused = _pay(edge, client_session, order, method, **fields)
        assert refused.status_code == 400, refused.text
        assert json_detail(refused, "BadRequest")["field_violations"][0]["field"] == "application"
