"""One customer identity across auth and the CRM, through the edge: the account owns a
registered customer's name, phone and email, and the CRM profile follows its changes; the CRM
refuses to change them itself, naming the account; staff find a customer by their account; a
client names themselves "users/me" and "customers/me" wherever a user or customer is taken,
and reaches nobody else's."""
import uuid

import grpc
import pytest
from google.protobuf import field_mask_pb2

from autosalon.auth.v1 import auth_pb2, auth_pb2_grpc
from autosalon.customer.v1 import customer_pb2, customer_pb2_grpc

from .conftest import STRONG_PASSWORD, bearer, grpc_reason, json_detail, json_reason, login, new_email, register
from .purchase import create_order, eventually, new_vehicle
from .test_auth_rest import violations
from .test_customers import _my_profile

OWNED_BY_ACCOUNT = "OWNED_BY_ACCOUNT"


def _new_phone() -> str:
    return f"+79{uuid.uuid4().int % 10**9:09d}"


def _another_client(edge) -> dict:
    user = register(edge)
    return {"user": user, **login(edge, user["email"], STRONG_PASSWORD)}


def test_a_name_phone_and_email_changed_in_the_account_show_in_the_crm_profile(edge, client_session):
    mine = bearer(client_session)
    profile = _my_profile(edge, client_session)
    phone = _new_phone()
    changed = edge.patch("/auth/users/me", headers=mine, params={"update_mask": "full_name,phone"},
                         json={"full_name": "Ivan Sidorov", "phone": phone})
    assert changed.status_code == 200, changed.text
    assert (changed.json()["name"], changed.json()["phone"]) == (client_session["user"]["name"], phone)
    eventually(lambda: (edge.get("/customers/me", headers=mine).json()["full_name"],
                        edge.get("/customers/me", headers=mine).json()["phone"]) == ("Ivan Sidorov", phone))
    address = new_email("moved")
    moved = edge.post("/auth/me:changeEmail", headers=mine, json={"new_email": address, "password": STRONG_PASSWORD})
    assert moved.status_code == 200, moved.text
    eventually(lambda: edge.get("/customers/me", headers=mine).json()["email"] == address)
    followed = edge.get(f"/{profile['name']}", headers=mine).json()
    assert (followed["name"], followed["user"], followed["full_name"]) == (
        profile["name"], client_session["user"]["name"], "Ivan Sidorov")


def test_an_admins_change_of_a_customers_account_shows_in_their_profile(edge, client_session, admin_session):
    phone = _new_phone()
    changed = edge.patch(f"/auth/{client_session['user']['name']}", headers=bearer(admin_session),
                         params={"update_mask": "phone"}, json={"phone": phone})
    assert changed.status_code == 200, changed.text
    eventually(lambda: _my_profile(edge, client_session)["phone"] == phone)


def test_a_manager_corrects_a_customers_account_but_not_a_colleagues(edge, client_session, manager_session,
                                                                    admin_session):
    """The front desk fixes a customer's phone where it lives, the account; the profile follows."""
    phone = _new_phone()
    changed = edge.patch(f"/auth/{client_session['user']['name']}", headers=bearer(manager_session),
                         params={"update_mask": "phone"}, json={"phone": phone})
    assert changed.status_code == 200, changed.text
    eventually(lambda: _my_profile(edge, client_session)["phone"] == phone)
    deactivating = edge.patch(f"/auth/{client_session['user']['name']}", headers=bearer(manager_session),
                              params={"update_mask": "active"}, json={"active": False})
    assert deactivating.status_code == 403, deactivating.text
    admin = edge.get("/auth/users/me", headers=bearer(admin_session)).json()
    colleague = edge.patch(f"/auth/{admin['name']}", headers=bearer(manager_session),
                           params={"update_mask": "phone"}, json={"phone": _new_phone()})
    assert colleague.status_code == 403, colleague.text


def _refused_as_owned(response, owner: str, fields: str) -> None:
    assert response.status_code == 400 and response.json()["code"] == 9, response.text  # FAILED_PRECONDITION
    assert json_reason(response) == OWNED_BY_ACCOUNT
    assert json_detail(response, "ErrorInfo")["metadata"] == {"owner": owner, "fields": fields}
    assert owner in response.json()["message"]


def test_the_crm_refuses_to_change_what_the_account_owns_and_names_the_account(
        edge, client_session, manager_session):
    mine, staff = bearer(client_session), bearer(manager_session)
    account = client_session["user"]["name"]
    profile = _my_profile(edge, client_session)
    renamed = edge.patch("/customers/me", headers=mine, params={"update_mask": "full_name"},
                         json={"full_name": "Someone Else"})
    _refused_as_owned(renamed, account, "full_name")
    by_staff = edge.patch(f"/{profile['name']}", headers=staff, params={"update_mask": "phone,email"},
                          json={"phone": _new_phone(), "email": new_email("crm")})
    _refused_as_owned(by_staff, account, "email,phone")
    # What the CRM owns, and the account's own values sent back unchanged, are taken.
    kept = edge.patch("/customers/me", headers=mine, params={"update_mask": "full_name,phone,address"},
                      json={"full_name": profile["full_name"], "phone": profile["phone"],
                            "address": {"city": "Tver"}})
    assert kept.status_code == 200, kept.text
    assert (kept.json()["address"]["city"], kept.json()["full_name"]) == ("Tver", profile["full_name"])
    assert _my_profile(edge, client_session)["full_name"] == profile["full_name"]


def test_staff_change_a_walk_ins_name_and_phone_in_the_crm(edge, manager_session):
    staff = bearer(manager_session)
    walk_in = edge.post("/customers", headers=staff, json={"full_name": "Walk In", "phone": _new_phone()}).json()
    phone = _new_phone()
    changed = edge.patch(f"/{walk_in['name']}", headers=staff, params={"update_mask": "full_name,phone"},
                         json={"full_name": "Walk In Renamed", "phone": phone})
    assert changed.status_code == 200, changed.text
    assert (changed.json()["full_name"], changed.json()["phone"], changed.json()["user"]) == (
        "Walk In Renamed", phone, "")


def test_staff_find_a_customer_by_their_account(edge, client_session, manager_session):
    staff = bearer(manager_session)
    account = client_session["user"]["name"]
    profile = _my_profile(edge, client_session)
    _another_client(edge)
    for written in (account, account.removeprefix("users/")):
        found = edge.get("/customers", headers=staff, params={"user": written})
        assert found.status_code == 200, found.text
        assert [(c["name"], c["user"]) for c in found.json()["customers"]] == [(profile["name"], account)]
        assert found.json()["total_size"] == 1
    nobody = edge.get("/customers", headers=staff, params={"user": f"users/{uuid.uuid4()}"}).json()
    assert nobody.get("customers", []) == [] and nobody.get("total_size", 0) == 0
    malformed = edge.get("/customers", headers=staff, params={"user": "users/not-a-uuid"})
    assert malformed.status_code == 400 and "user" in violations(malformed), malformed.text
    assert edge.get("/customers", headers=bearer(client_session), params={"user": account}).status_code == 403
    assert edge.get("/customers", params={"user": account}).status_code == 401


def test_me_names_the_caller_wherever_a_user_or_customer_is_taken(edge, client_session):
    mine = bearer(client_session)
    account = client_session["user"]["name"]
    me = edge.get("/auth/users/me", headers=mine)
    assert me.status_code == 200 and me.json() == edge.get("/auth/me", headers=mine).json()
    profile = _my_profile(edge, client_session)
    assert edge.get("/customers/me", headers=mine).json()["name"] == profile["name"]
    moved = edge.patch("/customers/me", headers=mine, params={"update_mask": "address"},
                       json={"address": {"city": "Samara"}})
    assert moved.status_code == 200 and moved.json()["name"] == profile["name"], moved.text
    purchases = edge.get("/customers/me/purchases", headers=mine)
    assert purchases.status_code == 200, purchases.text
    preferences = edge.get("/notifications/preferences", headers=mine, params={"customer": "users/me"})
    assert preferences.status_code == 200 and preferences.json()["customer"] == account, preferences.text
    notifications = edge.get("/notifications", headers=mine, params={"customer": "users/me"})
    assert notifications.status_code == 200, notifications.text
    assert {item["customer"] for item in notifications.json().get("notifications", [])} <= {account}


def test_me_orders_and_lists_a_clients_own_orders_with_their_count(edge, manager_session):
    buyer = _another_client(edge)
    mine = bearer(buyer)
    ordered = create_order(edge, buyer, new_vehicle(edge, manager_session), customer="users/me")
    assert ordered.status_code == 200 and ordered.json()["customer"] == buyer["user"]["name"], ordered.text
    listed = edge.get("/sales/orders", headers=mine, params={"customer": "users/me", "page_size": 1})
    assert listed.status_code == 200, listed.text
    assert [order["name"] for order in listed.json()["orders"]] == [ordered.json()["name"]]
    assert listed.json()["total_size"] == 1
    # A manager's own orders: none, though the manager sees every client's.
    staff_own = edge.get("/sales/orders", headers=bearer(manager_session), params={"customer": "users/me"})
    assert staff_own.status_code == 200 and staff_own.json().get("orders", []) == [], staff_own.text
    assert int(staff_own.json().get("total_size", 0)) == 0


def test_an_account_without_a_profile_is_me_in_auth_and_nobody_in_the_crm(edge, admin_session):
    """The initial admin never registered, so the CRM has no profile of theirs."""
    admin = bearer(admin_session)
    assert edge.get("/auth/users/me", headers=admin).json()["role"] == "ROLE_ADMIN"
    assert edge.get("/customers/me", headers=admin).status_code == 404
    assert edge.patch("/customers/me", headers=admin, params={"update_mask": "address"},
                      json={"address": {"city": "Omsk"}}).status_code == 404
    found = edge.get("/customers", headers=admin, params={"user": "users/me"})
    assert found.status_code == 200 and found.json().get("customers", []) == [], found.text


def test_me_reaches_nobody_else(edge, client_session):
    mine = bearer(client_session)
    other = _another_client(edge)
    theirs = _my_profile(edge, other)
    assert edge.get(f"/auth/{other['user']['name']}", headers=mine).status_code == 403
    assert edge.patch(f"/auth/{other['user']['name']}", headers=mine, params={"update_mask": "phone"},
                      json={"phone": _new_phone()}).status_code == 403
    assert edge.get(f"/{theirs['name']}", headers=mine).status_code == 404
    assert edge.patch(f"/{theirs['name']}", headers=mine, params={"update_mask": "address"},
                      json={"address": {"city": "Elsewhere"}}).status_code == 404
    foreign = edge.get("/notifications/preferences", headers=mine, params={"customer": other["user"]["name"]})
    assert foreign.status_code == 403 and json_reason(foreign) == "NOT_YOUR_CUSTOMER", foreign.text
    # "me" is the caller's own only: a client cannot make themselves more through it.
    promoted = edge.patch("/auth/users/me", headers=mine, params={"update_mask": "role"}, json={"role": "ROLE_ADMIN"})
    assert promoted.status_code == 403, promoted.text
    assert edge.get("/auth/users/me").status_code == 401
    assert edge.get("/auth/users/someone", headers=mine).status_code == 400


async def test_me_and_the_owners_refusal_over_native_grpc(edge, edge_channel, client_session):
    signed = (("authorization", f"Bearer {client_session['access_token']}"),)
    users = auth_pb2_grpc.AuthServiceStub(edge_channel)
    customers = customer_pb2_grpc.CustomerServiceStub(edge_channel)
    me = await users.GetUser(auth_pb2.GetUserRequest(name="users/me"), metadata=signed)
    assert me.name == client_session["user"]["name"]
    profile = _my_profile(edge, client_session)
    mine = await customers.GetCustomer(customer_pb2.GetCustomerRequest(name="customers/me"), metadata=signed)
    assert (mine.name, mine.user) == (profile["name"], me.name)
    with pytest.raises(grpc.aio.AioRpcError) as refused:
        await customers.UpdateCustomer(customer_pb2.UpdateCustomerRequest(
            customer=customer_pb2.Customer(name="customers/me", full_name="Grpc Rename"),
            update_mask=field_mask_pb2.FieldMask(paths=["full_name"])), metadata=signed)
    assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert grpc_reason(refused.value) == OWNED_BY_ACCOUNT
    renamed = await users.UpdateUser(auth_pb2.UpdateUserRequest(
        user=auth_pb2.User(name="users/me", full_name="Grpc Rename"),
        update_mask=field_mask_pb2.FieldMask(paths=["full_name"])), metadata=signed)
    assert renamed.full_name == "Grpc Rename"
    eventually(lambda: _my_profile(edge, client_session)["full_name"] == "Grpc Rename")
