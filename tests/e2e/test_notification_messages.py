"""The events customers are told of reach them as messages, end to end through the edge and
read where they arrive (the mesh's mail server, the SMS provider's emulator): an order's
payment refused by the gateway and one refunded; a loan approved with its terms, rejected by
the rules with their reasons or by a manager with their words; a KASKO policy issued, and one
ending within the notice (once); the phone an admin set in the account and the address its
owner moved to, where the next message goes (the CRM profile following them); no booking reminder for a customer who turned reminders off, while one who did
not gets it; an SMS held up while its provider is away, retried and sent once it is back."""
import contextlib
import datetime
import time
import uuid
from decimal import Decimal

import pytest

from scripts.mesh import supervisor
from services.notification.templates import TERMS

from .conftest import STRONG_PASSWORD, bearer, login, new_email, register
from .mail import mail_to, sms_to, text_of
from .purchase import DECLINED_CARD, confirmed_and_ready, eventually, new_vehicle, pay
from .test_booking import ROUND_THE_CLOCK, MINUTE, _another_client, _booked, _branch, _job_type, _mechanic, _soon
from .test_customers import _my_profile
from .test_financing import OVERDUE, REJECTED, _call, _submitted_and_decided, _under_review
from .test_insurance_policies import _active
from .test_purchase_saga import _cancel

SMS, SENT, PENDING = "CHANNEL_SMS", "NOTIFICATION_STATUS_SENT", "NOTIFICATION_STATUS_PENDING"


def _number(name: str) -> str:
    """What a message calls an order or a loan application: its id's first eight characters."""
    return name.rsplit("/", 1)[-1][:8].upper()


def _rub(amount: str) -> str:
    """An amount as an English message writes it: "RUB 1,234,567.00"."""
    return f"RUB\u00a0{Decimal(amount):,.2f}"


def _new_phone() -> str:
    return f"+79{uuid.uuid4().int % 10**9:09d}"


def _choose(edge, session: dict, **preferences) -> dict:
    """The caller's preferences changed as `preferences` say (language, or a kind's channels)."""
    changed = edge.patch("/notifications/preferences", headers=bearer(session),
                         params={"update_mask": ",".join(preferences)}, json=preferences)
    assert changed.status_code == 200, changed.text
    return changed.json()


def _in_english(edge, session: dict) -> str:
    """The customer's messages in English from now on; their address."""
    _choose(edge, session, language="en")
    return session["user"]["email"]


def _copies(address: str, subject: str) -> int:
    return sum(message["Subject"] == subject for message in mail_to(address))


def _email(address: str, subject: str, seconds: float = 30) -> str:
    """The plain text of the email to `address` with `subject`, once it has arrived."""
    eventually(lambda: _copies(address, subject) > 0, seconds)
    return text_of(address, subject)


def _notifications(edge, session: dict, **params) -> list[dict]:
    answer = edge.get("/notifications", headers=bearer(session), params=params)
    assert answer.status_code == 200, answer.text
    return answer.json().get("notifications", [])


def _preferences(edge, session: dict) -> dict:
    answer = edge.get("/notifications/preferences", headers=bearer(session))
    assert answer.status_code == 200, answer.text
    return answer.json()


@contextlib.contextmanager
def _setting(edge, admin: dict, key: str, value: str):
    """A hot setting of the mesh at `value` meanwhile, back to its default after."""
    path = f"/admin/settings/{key}"
    changed = edge.patch(path, headers=bearer(admin), json={"value": value})
    assert changed.status_code == 200, changed.text
    try:
        yield
    finally:
        edge.patch(path, headers=bearer(admin), json={"value": ""})


# Payments of an order.

def test_a_payment_refused_by_the_gateway_is_emailed_with_its_amount_and_the_gateways_reason(
        edge, client_session, manager_session):
    email = _in_english(edge, client_session)
    order = confirmed_and_ready(edge, client_session, new_vehicle(edge, manager_session))
    refused = pay(edge, client_session, order, card=DECLINED_CARD)
    assert refused.status_code == 200 and refused.json()["status"] == "PAYMENT_STATUS_FAILED", refused.text
    subject = f"Payment for order {_number(order['name'])} failed"
    text = _email(email, subject)
    assert f"Your payment of {_rub(order['total']['amount'])} for order {_number(order['name'])}" in text, text
    assert "Reason: card declined by issuer" in text, text
    _email(email, f"Order {_number(order['name'])} cancelled")  # the saga's compensation, after it
    assert _copies(email, subject) == 1


def test_money_refunded_when_staff_cancel_a_part_paid_order_is_emailed_as_a_refund(
        edge, client_session, manager_session):
    """A paid order cannot be cancelled; a confirmed one paid in part can, and its card payment
    goes back through the gateway."""
    email = _in_english(edge, client_session)
    order = confirmed_and_ready(edge, client_session, new_vehicle(edge, manager_session))
    part = pay(edge, client_session, order, amount={"amount": "100000.00"})
    assert part.status_code == 200 and part.json()["status"] == "PAYMENT_STATUS_COMPLETED", part.text
    cancelled = _cancel(edge, manager_session, order)
    assert cancelled.status_code == 200, cancelled.text
    eventually(lambda: edge.get(f"/{part.json()['name']}", headers=bearer(client_session)).json()["status"]
               == "PAYMENT_STATUS_REFUNDED", seconds=30)
    subject = f"Refund for order {_number(order['name'])}"
    text = _email(email, subject)
    assert f"We have refunded {_rub('100000')} for order {_number(order['name'])}" in text, text
    time.sleep(1.5)
    assert _copies(email, subject) == 1


# Loans.

def test_an_approved_loan_is_emailed_with_its_amount_and_monthly_payment(edge, client_session):
    email = _in_english(edge, client_session)
    application = _submitted_and_decided(edge, client_session)
    assert application["status"] == "APPLICATION_STATUS_APPROVED", application
    text = _email(email, f"Loan application {_number(application['name'])} approved")
    assert f"Loan amount: {_rub(application['loan_amount']['amount'])}" in text, text
    assert f"Monthly payment: {_rub(application['monthly_payment']['amount'])}" in text, text
    assert f"Term: {application['term_months']} months" in text, text


def test_a_loan_rejected_by_the_rules_names_their_reason_and_one_a_manager_rejected_their_words(
        edge, client_session, manager_session):
    email = _in_english(edge, client_session)
    by_rules = _submitted_and_decided(edge, client_session, passport_number=OVERDUE)
    assert by_rules["status"] == REJECTED, by_rules
    text = _email(email, f"Decision on loan application {_number(by_rules['name'])}")
    assert f"- {TERMS['en']['loan_reason']['overdue_debt']}" in text, text
    assert "Comment:" not in text, text
    waiting = _under_review(edge, client_session)
    rejected = _call(edge, manager_session, waiting, "reject", {"reason": "income not confirmed"})
    assert rejected.status_code == 200, rejected.text
    text = _email(email, f"Decision on loan application {_number(waiting['name'])}")
    assert "Comment: income not confirmed" in text, text
    assert "has not been approved" in text, text


# Policies.

def test_a_kasko_policy_issued_by_the_insurer_is_emailed_with_its_number_and_product(edge, client_session):
    email = _in_english(edge, client_session)
    policy = _active(edge, client_session)
    subject = f"Policy {policy['policy_number']} issued"
    text = _email(email, subject)
    assert 'Your "KASKO (own damage)" policy has been issued.' in text, text
    assert f"Premium: {_rub(policy['premium']['amount'])}" in text, text
    time.sleep(1.5)
    assert _copies(email, subject) == 1


@pytest.mark.disruptive
def test_a_policy_within_the_expiry_notice_is_told_once_that_it_expires_soon(edge, client_session, admin_session):
    """The notice made longer than a year: a new policy, ending in a year less a day, is within
    it at the insurer's next pass, and its holder is told once, however many passes follow.
    (The setting's most is 365 days: 400 is refused.)"""
    email = _in_english(edge, client_session)
    policy = _active(edge, client_session)
    subject = f"Policy {policy['policy_number']} expires soon"
    too_long = edge.patch("/admin/settings/insurance.expiry_notice_days", headers=bearer(admin_session),
                          json={"value": "400"})
    assert too_long.status_code == 400, too_long.text
    with _setting(edge, admin_session, "insurance.expiry_notice_days", "365"):
        text = _email(email, subject)
        time.sleep(3)  # three more passes of the insurer's schedule
    ends_on = datetime.date.fromisoformat(policy["ends_on"])
    assert f"{ends_on.day} {ends_on:%B} {ends_on.year}" in text and "KASKO (own damage)" in text, text
    assert _copies(email, subject) == 1


# Where messages go.

def test_the_phone_and_address_changed_in_the_account_are_where_the_next_messages_go(
        edge, client_session, admin_session, manager_session):
    phone, address = _new_phone(), new_email("moved")
    changed = edge.patch(f"/auth/{client_session['user']['name']}", headers=bearer(admin_session),
                         params={"update_mask": "phone"}, json={"phone": phone})
    assert changed.status_code == 200, changed.text
    moved = edge.post("/auth/me:changeEmail", headers=bearer(client_session),
                      json={"new_email": address, "password": STRONG_PASSWORD})
    assert moved.status_code == 200, moved.text
    eventually(lambda: (_preferences(edge, client_session)["phone"],
                        _preferences(edge, client_session)["email"]) == (phone, address))
    eventually(lambda: (_my_profile(edge, client_session)["phone"], _my_profile(edge, client_session)["email"])
               == (phone, address))
    _choose(edge, client_session, transactional={"email": True, "sms": True})
    order = confirmed_and_ready(edge, client_session, new_vehicle(edge, manager_session))
    number = _number(order["name"])
    assert number in _email(address, f"Заказ {number} подтверждён")
    eventually(lambda: sms_to(phone))
    [sms] = sms_to(phone)
    assert sms.text.startswith(f"Заказ {number}"), sms.text
    sent = _notifications(edge, client_session, channel=SMS)
    assert [(item["template"], item["recipient"]) for item in sent] == [("templates/order_confirmed", phone)], sent
    # The account's former address got only what came before the change.
    assert not [message for message in mail_to(client_session["user"]["email"]) if number in message["Subject"]]


def test_a_customer_with_reminders_off_gets_no_booking_reminder_and_one_with_them_on_does(
        edge, client_session, admin_session, manager_session):
    """Both book a slot 20 to 40 minutes ahead, well within the reminder's lead (a day by
    default), at a branch of the test's own open round the clock, with a mechanic each."""
    branch = _branch(edge, admin_session, hours=ROUND_THE_CLOCK)
    job = _job_type(edge, manager_session, minutes=15)
    quiet = _another_client(edge)
    _choose(edge, quiet, reminders={"email": False, "sms": False, "push": False})
    start = _soon(15 * MINUTE)
    for session in (client_session, quiet):
        _booked(edge, session, branch, job, start, mechanic=_mechanic(edge, manager_session, branch))
    reminder = "Напоминание о записи: Test job 15 min"
    assert "Test job 15 min" in _email(client_session["user"]["email"], reminder)
    quiet_email = quiet["user"]["email"]
    _email(quiet_email, "Вы записаны: Test job 15 min")  # booking's events reached them
    time.sleep(5)
    assert _copies(quiet_email, reminder) == 0, [message["Subject"] for message in mail_to(quiet_email)]
    assert not [item for item in _notifications(edge, quiet) if item["template"] == "templates/booking_reminder"]
    assert _copies(client_session["user"]["email"], reminder) == 1


@pytest.mark.disruptive
def test_an_sms_held_up_while_its_provider_is_away_is_retried_and_sent_once_it_is_back(
        edge, admin_session, manager_session):
    phone = _new_phone()
    user = register(edge, phone=phone)
    session = {"user": user, **login(edge, user["email"], STRONG_PASSWORD)}
    eventually(lambda: _preferences(edge, session)["phone"] == phone)
    _choose(edge, session, transactional={"email": True, "sms": True})
    vehicle = new_vehicle(edge, manager_session)
    with _setting(edge, admin_session, "notification.retry_seconds", "0.5"):
        supervisor.ctl("stop", "sms")
        try:
            order = confirmed_and_ready(edge, session, vehicle)
            deadline = time.monotonic() + 20
            while not ((held := _notifications(edge, session, channel=SMS)) and held[0]["attempts"] >= 2):
                assert time.monotonic() < deadline, held
                time.sleep(0.2)
        finally:
            supervisor.ctl("start", "sms")
        [sms] = held
        assert (sms["template"], sms["status"], sms["recipient"]) == ("templates/order_confirmed", PENDING, phone)
        assert "SMS provider" in sms["last_error"], sms
        deadline = time.monotonic() + 30
        while (sent := edge.get(f"/{sms['name']}", headers=bearer(session)).json())["status"] != SENT:
            assert time.monotonic() < deadline and sent["status"] == PENDING, sent
            time.sleep(0.3)
    assert sent["attempts"] > sms["attempts"] and sent["send_time"], sent
    time.sleep(2)  # a second send, if there were one, would show by now
    delivered = sms_to(phone)
    assert [(message.message_id, message.text.split(" ")[1]) for message in delivered] == [
        (sms["name"].removeprefix("notifications/"), _number(order["name"]))], delivered
