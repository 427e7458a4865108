"""notification through the edge, REST and native gRPC: staff list and preview the templates; a
customer's preferences (defaults, changes, transactional email always on) with the address and
phone of their account."""
import datetime
import time
import zoneinfo
from decimal import Decimal

import grpc
import pytest

from autosalon.notification.v1 import notification_pb2, notification_pb2_grpc
from scripts.mesh import supervisor

from .conftest import STRONG_PASSWORD, bearer, login, register
from .mail import subjects_to, text_of
from .purchase import confirmed_and_ready, in_status, new_vehicle, pay, wait_for_order


def _violations(answer) -> dict:
    details = answer.json().get("details", [])
    return {violation["field"]: violation["description"]
            for detail in details for violation in detail.get("field_violations", [])}


def test_staff_list_every_template_with_its_kind_of_message(edge, manager_session):
    answer = edge.get("/notifications/templates", headers=bearer(manager_session))
    assert answer.status_code == 200, answer.text
    kinds = {template["name"]: template["message_kind"] for template in answer.json()["templates"]}
    assert kinds["templates/order_confirmed"] == "transactional"
    assert kinds["templates/booking_reminder"] == "reminders"
    assert len(kinds) == 19 and all(template["languages"] == ["ru", "en"] for template in answer.json()["templates"])


def test_a_preview_writes_every_part_in_the_language_asked(edge, manager_session):
    answer = edge.post("/notifications/templates/order_confirmed:render", headers=bearer(manager_session),
                       json={"language": "en"})
    assert answer.status_code == 200, answer.text
    message = answer.json()
    assert message["subject"].startswith("Order ") and "RUB" in message["text"]
    assert "<p>" in message["html"] and message["sms"] and message["push_title"]
    russian = edge.post("/notifications/templates/order_confirmed:render", headers=bearer(manager_session),
                        json={}).json()
    assert russian["subject"].startswith("Заказ ") and "₽" in russian["text"]


def test_a_preview_takes_data_and_names_what_it_lacks(edge, manager_session):
    data = {"customer_name": "Anna <Lee>", "action_url": "https://autosalon.example/orders/7",
            "order": {"number": "A-7", "vehicle": "Haval Jolion 2024", "total": "1999999.5"}}
    answer = edge.post("/notifications/templates/order_confirmed:render", headers=bearer(manager_session),
                       json={"language": "ru", "data": data})
    assert answer.status_code == 200, answer.text
    message = answer.json()
    assert "1\u202f999\u202f999,50\u00a0₽" in message["text"]
    assert "Anna &lt;Lee&gt;" in message["html"] and "Anna <Lee>" in message["text"]
    booking = {"customer_name": "Anna", "action_url": "https://autosalon.example/bookings/1", "booking": {
        "job": "Oil change", "branch": "Central", "address": "Moscow", "start": "2027-03-01T09:30:00Z",
        "time_zone": "Europe/Moscow", "vin": "XTA21099043576182"}}
    answer = edge.post("/notifications/templates/booking_created:render", headers=bearer(manager_session),
                       json={"language": "ru", "data": booking})
    assert answer.status_code == 200, answer.text
    assert "1 марта 2027" in answer.json()["text"] and "12:30" in answer.json()["text"]  # 09:30 UTC, in Moscow
    lacking = edge.post("/notifications/templates/order_confirmed:render", headers=bearer(manager_session),
                        json={"data": {"customer_name": "Anna"}})
    assert lacking.status_code == 400 and "order" in _violations(lacking)["data"]


@pytest.mark.parametrize("body, field", [({"language": "de"}, "language"), ({}, None)])
def test_a_preview_of_an_unknown_template_or_language_is_400(edge, manager_session, body, field):
    path = "/notifications/templates/order_confirmed:render" if field else "/notifications/templates/nothing:render"
    answer = edge.post(path, headers=bearer(manager_session), json=body)
    assert answer.status_code == 400 and (field or "name") in _violations(answer), answer.text


def test_a_client_may_not_list_or_preview_templates(edge, client_session):
    assert edge.get("/notifications/templates", headers=bearer(client_session)).status_code == 403
    assert edge.post("/notifications/templates/welcome:render", headers=bearer(client_session),
                     json={}).status_code == 403
    assert edge.get("/notifications/templates").status_code == 401


def _preferences(edge, session, **params):
    answer = edge.get("/notifications/preferences", headers=bearer(session), params=params)
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_a_new_customer_has_the_defaults_and_their_accounts_address(edge, client_session):
    user = client_session["user"]
    deadline = time.monotonic() + 10
    while not (preferences := _preferences(edge, client_session))["email"]:
        assert time.monotonic() < deadline, "the account's address never arrived from auth's events"
        time.sleep(0.2)
    assert preferences["customer"] == user["name"] and preferences["email"] == user["email"]
    assert preferences["phone"] == user["phone"] and preferences["language"] == "ru"
    assert preferences["transactional"]["email"] and preferences["reminders"]["email"]
    assert not any(preferences["marketing"].values())


def test_a_customer_changes_their_channels_and_language(edge, client_session):
    answer = edge.patch("/notifications/preferences", headers=bearer(client_session),
                        params={"update_mask": "language,reminders,marketing"},
                        json={"language": "en", "reminders": {"email": False, "sms": True},
                              "marketing": {"push": True}})
    assert answer.status_code == 200, answer.text
    changed = _preferences(edge, client_session)
    assert changed["language"] == "en"
    assert (changed["reminders"]["email"], changed["reminders"]["sms"]) == (False, True)
    assert changed["marketing"]["push"] and changed["transactional"]["email"]


def test_transactional_email_cannot_be_turned_off_and_nothing_changes(edge, client_session):
    answer = edge.patch("/notifications/preferences", headers=bearer(client_session),
                        params={"update_mask": "transactional,language"},
                        json={"transactional": {"email": False, "sms": True}, "language": "en"})
    assert answer.status_code == 400 and "preferences.transactional.email" in _violations(answer)
    unchanged = _preferences(edge, client_session)
    assert unchanged["language"] == "ru" and unchanged["transactional"]["email"]
    assert not unchanged["transactional"]["sms"]


def test_a_bad_language_or_mask_is_400(edge, client_session):
    bad = edge.patch("/notifications/preferences", headers=bearer(client_session),
                     params={"update_mask": "language"}, json={"language": "de"})
    assert bad.status_code == 400 and "preferences.language" in _violations(bad)
    unknown = edge.patch("/notifications/preferences", headers=bearer(client_session),
                         params={"update_mask": "email"}, json={"email": "x@example.ru"})
    assert unknown.status_code == 400 and "update_mask" in _violations(unknown)


def test_staff_read_a_customers_preferences_a_client_only_their_own(edge, client_session, manager_session):
    customer = client_session["user"]["name"]
    assert _preferences(edge, manager_session, customer=customer)["customer"] == customer
    other = edge.get("/notifications/preferences", headers=bearer(client_session),
                     params={"customer": "users/00000000-0000-0000-0000-000000000001"})
    assert other.status_code == 403
    assert edge.get("/notifications/preferences").status_code == 401


async def test_native_grpc_reads_and_refuses_as_rest_does(edge_channel, client_session, manager_session):
    stub = notification_pb2_grpc.NotificationServiceStub(edge_channel)
    client = [("authorization", f"Bearer {client_session['access_token']}")]
    staff = [("authorization", f"Bearer {manager_session['access_token']}")]
    mine = await stub.GetPreferences(notification_pb2.GetPreferencesRequest(), metadata=client)
    assert mine.customer == client_session["user"]["name"]
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await stub.ListTemplates(notification_pb2.ListTemplatesRequest(), metadata=client)
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await stub.UpdatePreferences(notification_pb2.UpdatePreferencesRequest(
            preferences=notification_pb2.Preferences(transactional=notification_pb2.ChannelChoice(email=False)),
            update_mask={"paths": ["transactional"]}), metadata=client)
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    rendered = await stub.RenderTemplate(notification_pb2.RenderTemplateRequest(name="templates/welcome"),
                                         metadata=staff)
    assert rendered.subject and rendered.html


def test_a_registration_gets_one_welcome_and_one_verification_email_recorded_as_sent(edge, client_session):
    user = client_session["user"]
    subjects = subjects_to(user["email"], 2, seconds=15)
    assert sorted(subjects) == ["Добро пожаловать в Автосалон", "Подтвердите адрес электронной почты"], subjects
    listed = edge.get("/notifications", headers=bearer(client_session)).json()["notifications"]
    [welcome] = [item for item in listed if item["template"] == "templates/welcome"]
    assert (welcome["channel"], welcome["status"], welcome["recipient"]) == (
        "CHANNEL_EMAIL", "NOTIFICATION_STATUS_SENT", user["email"])
    assert welcome["attempts"] == 1 and welcome["send_time"]
    assert edge.get(f"/{welcome['name']}", headers=bearer(client_session)).json()["status"] == \
        "NOTIFICATION_STATUS_SENT"


def test_a_client_sees_only_their_own_notifications(edge, client_session, manager_session):
    deadline = time.monotonic() + 15
    while not (mine := edge.get("/notifications", headers=bearer(client_session)).json()["notifications"]):
        assert time.monotonic() < deadline
        time.sleep(0.3)
    other = register(edge)
    stranger = login(edge, other["email"], STRONG_PASSWORD)
    assert edge.get(f"/{mine[0]['name']}", headers=bearer(stranger)).status_code == 404
    assert edge.get("/notifications", headers=bearer(stranger),
                    params={"customer": client_session["user"]["name"]}).status_code == 403
    staff_view = edge.get("/notifications", headers=bearer(manager_session),
                          params={"customer": client_session["user"]["name"], "channel": "CHANNEL_EMAIL"})
    assert staff_view.status_code == 200 and staff_view.json()["notifications"][0]["name"] == mine[0]["name"]
    assert edge.get("/notifications", headers=bearer(manager_session),
                    params={"status": "NOTIFICATION_STATUS_UNSPECIFIED_X"}).status_code == 400


@pytest.mark.disruptive
def test_a_welcome_held_up_by_the_mail_server_being_down_is_retried_and_sent_once(edge, admin_session):
    """The relay away: the attempts fail and wait, backing off; back, the email goes, once."""
    setting = "/admin/settings/notification.retry_seconds"
    assert edge.patch(setting, headers=bearer(admin_session), json={"value": "0.5"}).status_code == 200
    supervisor.ctl("stop", "mail")
    try:
        user = register(edge)
        session = login(edge, user["email"], STRONG_PASSWORD)
        deadline = time.monotonic() + 15
        while True:
            listed = edge.get("/notifications", headers=bearer(session)).json()["notifications"]
            if listed and all(item["attempts"] >= 2 for item in listed):
                break
            assert time.monotonic() < deadline, listed
            time.sleep(0.3)
        assert all(item["status"] == "NOTIFICATION_STATUS_PENDING" and "mail relay" in item["last_error"]
                   for item in listed), listed
    finally:
        supervisor.ctl("start", "mail")
        edge.patch(setting, headers=bearer(admin_session), json={"value": ""})
    subjects = subjects_to(user["email"], 2, seconds=30)
    assert sorted(subjects) == ["Добро пожаловать в Автосалон", "Подтвердите адрес электронной почты"], subjects
    listed = edge.get("/notifications", headers=bearer(session)).json()["notifications"]
    [welcome] = [item for item in listed if item["template"] == "templates/welcome"]
    assert welcome["status"] == "NOTIFICATION_STATUS_SENT" and welcome["attempts"] >= 3


def test_a_purchase_sends_its_customer_exactly_the_expected_emails_in_their_language(
        edge, client_session, manager_session):
    """Confirmed, paid, handed over: one email each (and the welcome and the address's
    verification before), in English for a customer who chose it, with the order's amount
    written the English way."""
    email = client_session["user"]["email"]
    subjects_to(email, 2)  # the welcome and the verification, in Russian, before the language changed
    changed = edge.patch("/notifications/preferences", headers=bearer(client_session),
                         params={"update_mask": "language"}, json={"language": "en"})
    assert changed.status_code == 200, changed.text
    order = confirmed_and_ready(edge, client_session, new_vehicle(edge, manager_session))
    number = order["name"].rsplit("/", 1)[-1][:8].upper()
    assert pay(edge, client_session, order).status_code == 200
    wait_for_order(edge, client_session, order, in_status("ORDER_STATUS_PAID"))
    completed = edge.post(f"/sales/{order['name']}:complete", headers=bearer(manager_session), json={})
    assert completed.status_code == 200, completed.text
    subjects = subjects_to(email, 5)
    assert len(subjects) == 5 and sorted(subjects[:2]) == [
        "Добро пожаловать в Автосалон", "Подтвердите адрес электронной почты"], subjects
    assert subjects[2:] == [f"Order {number} confirmed", f"Order {number} paid", f"Order {number} completed"]
    text = text_of(email, f"Order {number} confirmed")
    amount = Decimal(order["total"]["amount"])
    assert f"RUB\u00a0{amount:,.2f}" in text, text


def test_a_workshop_booking_and_its_cancellation_are_emailed_with_the_branch_and_its_local_time(
        edge, client_session):
    email = client_session["user"]["email"]
    subjects_to(email, 2)  # the welcome and the verification
    today = datetime.datetime.now(datetime.timezone.utc)
    window = {"branch": "branches/moscow-central", "job_type": "job-types/oil-change",
              "start_time": (today + datetime.timedelta(days=2)).strftime("%Y-%m-%dT00:00:00Z"),
              "end_time": (today + datetime.timedelta(days=9)).strftime("%Y-%m-%dT00:00:00Z")}
    slots = edge.get("/service/slots", params=window).json()["slots"]
    made = edge.post("/service/bookings", headers=bearer(client_session), json={
        "vin": "XTA21099043576182", "job_type": "job-types/oil-change", "branch": "branches/moscow-central",
        "start_time": slots[0]["start_time"]})
    assert made.status_code == 200, made.text
    cancelled = edge.post(f"/service/{made.json()['name']}:cancel", headers=bearer(client_session),
                          json={"reason": "plans changed"})
    assert cancelled.status_code == 200, cancelled.text
    subjects = subjects_to(email, 4)
    assert len(subjects) == 4, subjects
    text = text_of(email, subjects[2])
    local = datetime.datetime.fromisoformat(slots[0]["start_time"].replace("Z", "+00:00")).astimezone(
        zoneinfo.ZoneInfo("Europe/Moscow"))
    assert "Oil and filter change" in text, text  # the job type's name, from booking
    assert f"{local:%H:%M}" in text and "Leningradsky" in text, text
