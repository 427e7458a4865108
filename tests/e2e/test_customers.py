"""customer end to end: profiles from registration, own vs all, interactions, segments."""
import time
import uuid

import grpc
import pytest

from autosalon.customer.v1 import customer_pb2, customer_pb2_grpc

from .conftest import STRONG_PASSWORD, bearer, listed, login, new_email, register
from .test_auth_rest import BAD_TOKENS, bad_authorization, violations


def _my_profile(edge, session, attempts: int = 100) -> dict:
    """The profile appears once customer has consumed the registration event."""
    for _ in range(attempts):
        response = edge.get("/customers/me", headers=bearer(session))
        if response.status_code == 200:
            return response.json()
        assert response.status_code == 404, response.text
        time.sleep(0.05)
    pytest.fail("no customer profile was created from the registration")


def test_registration_creates_a_profile_the_client_sees_and_edits(edge, client_session):
    profile = _my_profile(edge, client_session)
    assert profile["user"] == client_session["user"]["name"]
    assert profile["email"] == client_session["user"]["email"]
    assert profile["segment"] == "new"
    changed = edge.patch(f"/{profile['name']}", headers=bearer(client_session),
                         params={"update_mask": "address,preferences"},
                         json={"address": {"city": "Kazan"},
                               "preferences": {"channels": ["CHANNEL_SMS"], "preferred_brands": ["Haval"],
                                               "budget": {"amount": "3000000"}}})
    assert changed.status_code == 200, changed.text
    assert changed.json()["address"]["city"] == "Kazan"
    assert changed.json()["preferences"]["budget"]["amount"] == "3000000.00"
    tags = edge.patch(f"/{profile['name']}", headers=bearer(client_session),
                      params={"update_mask": "tags"}, json={"tags": ["vip"]})
    assert tags.status_code == 403


def test_clients_see_only_their_own_profile(edge, client_session, manager_session):
    other = register(edge)
    other_session = login(edge, other["email"], STRONG_PASSWORD)
    theirs = _my_profile(edge, other_session)
    assert edge.get(f"/{theirs['name']}", headers=bearer(client_session)).status_code == 404
    assert edge.patch(f"/{theirs['name']}", headers=bearer(client_session), params={"update_mask": "full_name"},
                      json={"full_name": "Hijacked"}).status_code == 404
    assert edge.get("/customers", headers=bearer(client_session)).status_code == 403
    assert edge.get(f"/{theirs['name']}", headers=bearer(manager_session)).status_code == 200
    assert edge.get("/customers/me").status_code == 401


@pytest.mark.parametrize("kind", BAD_TOKENS)
def test_my_profile_needs_a_valid_access_token(edge, client_session, kind):
    response = edge.get("/customers/me", headers=bad_authorization(client_session, kind))
    assert response.status_code == 401, response.text
    assert response.json()["code"] == 16  # UNAUTHENTICATED
    assert client_session["user"]["email"] not in response.text


def test_walk_in_interactions_segments_and_search(edge, manager_session):
    headers = bearer(manager_session)
    phone = f"+7916{int(time.time() * 1000) % 10**7:07d}"
    walk_in = edge.post("/customers", headers=headers,
                        json={"full_name": "Pyotr Walkin", "phone": phone, "tags": ["Trade-In"]})
    assert walk_in.status_code == 200, walk_in.text
    customer = walk_in.json()
    assert customer["user"] == "" and customer["segment"] == "new" and customer["tags"] == ["trade-in"]
    logged = edge.post(f"/{customer['name']}/interactions", headers=headers,
                       json={"type": "INTERACTION_TYPE_TEST_DRIVE", "note": "Drove a Haval Jolion"})
    assert logged.status_code == 200, logged.text
    assert logged.json()["logged_by"].startswith("users/")
    assert edge.get(f"/{customer['name']}", headers=headers).json()["segment"] == "prospect"
    listed = edge.get(f"/{customer['name']}/interactions", headers=headers).json()["interactions"]
    assert [i["note"] for i in listed] == ["Drove a Haval Jolion"]
    found = edge.get("/customers", headers=headers, params={"query": phone[-7:]}).json()
    assert [c["name"] for c in found["customers"]] == [customer["name"]]
    by_tag = edge.get("/customers", headers=headers, params={"tag": "trade-in", "segment": "prospect"}).json()
    assert customer["name"] in {c["name"] for c in by_tag["customers"]}


@pytest.mark.parametrize(
    "body, field",
    [
        ({"full_name": "No Contact"}, "customer.phone"),
        ({"full_name": "X", "email": "bad"}, "customer.email"),
        ({"full_name": "", "phone": "+79990001122"}, "customer.full_name"),
    ],
)
def test_bad_walk_ins_are_400(edge, manager_session, body, field):
    response = edge.post("/customers", headers=bearer(manager_session), json=body)
    assert response.status_code == 400
    assert field in violations(response)


def test_bad_interaction_and_unknown_customer(edge, manager_session):
    headers = bearer(manager_session)
    customer = edge.post("/customers", headers=headers, json={"full_name": "Q", "email": new_email()}).json()
    bad = edge.post(f"/{customer['name']}/interactions", headers=headers, json={"note": ""})
    assert bad.status_code == 400
    assert {"interaction.type", "interaction.note"} <= set(violations(bad))
    ghost = "customers/00000000-0000-0000-0000-000000000000"
    assert edge.post(f"/{ghost}/interactions", headers=headers,
                     json={"type": "INTERACTION_TYPE_CALL", "note": "x"}).status_code == 404


def test_crm_work_is_staff_only(edge, client_session, manager_session):
    staff, client = bearer(manager_session), bearer(client_session)
    customer = edge.post("/customers", headers=staff, json={"full_name": "Olga Staffonly",
                                                            "email": new_email()}).json()
    interaction = {"type": "INTERACTION_TYPE_VISIT", "note": "test drive booked"}
    assert edge.post("/customers", json={"full_name": "Anon"}).status_code == 401
    assert edge.post("/customers", headers=client, json={"full_name": "Self Made"}).status_code == 403
    assert edge.post(f"/{customer['name']}/interactions", json=interaction).status_code == 401
    assert edge.post(f"/{customer['name']}/interactions", headers=client, json=interaction).status_code == 403
    assert edge.get(f"/{customer['name']}/interactions", headers=client).status_code == 403
    ghost = "customers/00000000-0000-0000-0000-000000000000"
    assert edge.get(f"/{ghost}/interactions", headers=staff).status_code == 404
    assert edge.get(f"/{ghost}", headers=staff).status_code == 404
    assert edge.patch(f"/{ghost}", headers=staff, params={"update_mask": "full_name"},
                      json={"full_name": "Nobody"}).status_code == 404
    malformed = edge.get("/customers/not-a-uuid", headers=staff)
    assert malformed.status_code == 400 and "name" in violations(malformed)
    assert listed(edge, f"/{customer['name']}/interactions", "interactions", staff) == []


@pytest.mark.parametrize(
    "path, params, field",
    [
        ("/customers", {"page_token": "garbage"}, "page_token"),
        ("/customers", {"page_size": -1}, "page_size"),
        ("/{customer}/interactions", {"page_token": "garbage"}, "page_token"),
        ("/{customer}/interactions", {"page_size": -1}, "page_size"),
    ],
    ids=["customers-garbage-token", "customers-negative-size", "interactions-garbage-token",
         "interactions-negative-size"],
)
def test_bad_crm_list_pages_are_400_with_the_field(edge, manager_session, path, params, field):
    headers = bearer(manager_session)
    if "{customer}" in path:
        customer = edge.post("/customers", headers=headers, json={"full_name": "Paged Walkin", "email": new_email()})
        assert customer.status_code == 200, customer.text
        path = path.format(customer=customer.json()["name"])
    response = edge.get(path, params=params, headers=headers)
    assert response.status_code == 400, response.text
    assert field in violations(response)


async def test_customers_over_native_grpc(edge, edge_channel, client_session, manager_session):
    """The CRM through the edge over gRPC: closed to strangers, a client's own profile, staff's
    search and a walk-in they add, with the same answers as over REST."""
    stub = customer_pb2_grpc.CustomerServiceStub(edge_channel)
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await stub.ListCustomers(customer_pb2.ListCustomersRequest())
    assert error.value.code() == grpc.StatusCode.UNAUTHENTICATED

    def signed(session: dict) -> tuple:
        return (("authorization", f"Bearer {session['access_token']}"),)

    over_rest = _my_profile(edge, client_session)  # once the registration's event made it
    mine = await stub.GetMyCustomer(customer_pb2.GetMyCustomerRequest(), metadata=signed(client_session))
    assert mine.user == client_session["user"]["name"] and mine.name == over_rest["name"]
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await stub.ListCustomers(customer_pb2.ListCustomersRequest(), metadata=signed(client_session))
    assert error.value.code() == grpc.StatusCode.PERMISSION_DENIED
    walk_in = await stub.CreateCustomer(customer_pb2.CreateCustomerRequest(customer=customer_pb2.Customer(
        full_name="Grpc Walkin", email=new_email("grpc"))), metadata=signed(manager_session))
    found = await stub.GetCustomer(customer_pb2.GetCustomerRequest(name=walk_in.name), metadata=signed(manager_session))
    assert found.full_name == "Grpc Walkin" and found.name == walk_in.name
    page = await stub.ListCustomers(customer_pb2.ListCustomersRequest(page_size=1), metadata=signed(manager_session))
    assert len(page.customers) == 1 and page.total_size >= 2


def test_a_retried_walk_in_or_interaction_with_one_key_is_created_once(edge, manager_session):
    staff = bearer(manager_session)
    body = {"full_name": "Retry Walkin", "email": new_email("retry")}
    key = {"Idempotency-Key": f"walk-in-{uuid.uuid4()}"}
    first, again = (edge.post("/customers", headers={**staff, **key}, json=body) for _ in range(2))
    assert first.status_code == again.status_code == 200, first.text + again.text
    assert again.json() == first.json()
    assert edge.post("/customers", headers=staff, json=body).json()["name"] != first.json()["name"]
    interactions = f"/{first.json()['name']}/interactions"
    call = {"type": "INTERACTION_TYPE_CALL", "note": "asked for a test drive"}
    key = {"Idempotency-Key": f"call-{uuid.uuid4()}"}
    logged = [edge.post(interactions, headers={**staff, **key}, json=call).json() for _ in range(2)]
    assert logged[0] == logged[1] and logged[0]["name"]
    assert edge.get(interactions, headers=staff).json()["interactions"] == [logged[0]]
