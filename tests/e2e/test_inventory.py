"""inventory end to end through the edge: stock, VIN rules, reservations, catalog outage."""
import time
import uuid

import grpc
import pytest

from autosalon.inventory.v1 import inventory_pb2, inventory_pb2_grpc
from scripts.mesh import supervisor
from services.inventory import demo
from services.kit import vin

from .conftest import bearer, within_deadline
from .test_auth_rest import offending_fields, violations


def _a_trim(edge) -> tuple[str, str, str]:
    model = edge.get("/catalog/models", params={"brand": "lada", "model": "vesta",
                                                "view": "MODEL_VIEW_FULL"}).json()["models"][0]
    return model["name"], model["trims"][0]["name"], model["trims"][0]["price"]["amount"]


def _new_vin() -> str:
    return vin.example("XTAGFL110S")


def _vehicle_body(edge, **overrides) -> dict:
    model, trim, _ = _a_trim(edge)
    return {"vin": _new_vin(), "model": model, "trim": trim, "colour": "white", "mileage_km": 3,
            "condition": "CONDITION_NEW", "branch": "Moscow, Leningradsky prospekt 39", **overrides}


@pytest.fixture
def vehicle(edge, manager_session) -> dict:
    response = edge.post("/inventory/vehicles", json=_vehicle_body(edge), headers=bearer(manager_session))
    assert response.status_code == 200, response.text
    return response.json()


def test_demo_stock_is_public_and_filterable(edge):
    page = edge.get("/inventory/vehicles", params={"page_size": 100}).json()
    assert page["total_size"] >= 50
    for branch in demo.BRANCHES:
        assert edge.get("/inventory/vehicles", params={"branch": branch}).json()["total_size"] >= 25
    used = edge.get("/inventory/vehicles", params={"condition": "CONDITION_USED", "mileage_max": 200000}).json()
    assert used["vehicles"] and all(v["condition"] == "CONDITION_USED" for v in used["vehicles"])
    haval = edge.get("/inventory/vehicles", params={"brand": "HAVAL"}).json()["vehicles"]
    assert haval and all(v["brand"] == "Haval" for v in haval)
    cheap = edge.get("/inventory/vehicles", params={"price_max": "2000000"}).json()["vehicles"]
    assert cheap and all(float(v["price"]["amount"]) <= 2_000_000 for v in cheap)


@pytest.mark.parametrize(
    "params, field",
    [
        ({"page_token": "garbage"}, "page_token"),
        ({"page_size": -5}, "page_size"),
        ({"model": "lada-vesta"}, "model"),
        ({"price_min": "cheap"}, "price_min"),
        ({"price_max": "1,5"}, "price_max"),
        ({"status": "VEHICLE_STATUS_NOPE"}, "status"),
        ({"condition": "CONDITION_NOPE"}, "condition"),
        ({"price_min": "2000000", "price_max": "1000000"}, "price_max"),
        ({"mileage_max": -3}, "mileage_max"),
    ],
    ids=["garbage-token", "negative-size", "malformed-model", "bad-price-min", "bad-price-max",
         "unknown-status", "unknown-condition", "inverted-price-range", "negative-mileage"],
)
def test_bad_stock_searches_are_400_with_the_field(edge, params, field):
    response = edge.get("/inventory/vehicles", params=params)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/json"), response.text
    assert field in offending_fields(response)


def test_a_page_token_serves_only_the_search_it_came_from(edge):
    first = edge.get("/inventory/vehicles", params={"page_size": 1, "condition": "CONDITION_USED"})
    assert first.status_code == 200, first.text
    token = first.json()["next_page_token"]
    assert token
    assert edge.get("/inventory/vehicles", params={"page_size": 1, "condition": "CONDITION_USED",
                                                   "page_token": token}).status_code == 200
    other = edge.get("/inventory/vehicles", params={"page_size": 1, "condition": "CONDITION_NEW",
                                                    "page_token": token})
    assert other.status_code == 400, other.text
    assert "different query" in violations(other)["page_token"]


def test_a_new_vehicle_shows_catalogue_facts_and_decoded_vin(edge, vehicle):
    _, _, price = _a_trim(edge)
    assert (vehicle["brand"], vehicle["model_name"], vehicle["year"]) == ("Lada", "Vesta", 2025)
    assert vehicle["price"]["amount"] == price
    assert vehicle["status"] == "VEHICLE_STATUS_AVAILABLE"
    assert vehicle["vin_info"]["manufacturer"] == "AvtoVAZ (Lada)"
    assert vehicle["vin_info"]["check_digit_valid"] is True
    assert edge.get(f"/inventory/{vehicle['name']}").json()["vin"] == vehicle["vin"]


@pytest.mark.parametrize(
    "vin_value, words",
    [("XTAGFL110S00001", "17 characters"), ("XTAGFL110S000O001", "must not contain O"),
     ("1M8GDM9A1KP042788", "check digit")],
)
def test_bad_vins_are_400(edge, manager_session, vin_value, words):
    response = edge.post("/inventory/vehicles", json=_vehicle_body(edge, vin=vin_value),
                         headers=bearer(manager_session))
    assert response.status_code == 400
    assert words in violations(response)["vin"]


def test_duplicate_vin_is_409_and_unknown_trim_404(edge, manager_session, vehicle):
    headers = bearer(manager_session)
    twice = edge.post("/inventory/vehicles", json=_vehicle_body(edge, vin=vehicle["vin"].lower()),
                      headers=headers)
    assert twice.status_code == 409
    model, _, _ = _a_trim(edge)
    ghost = edge.post("/inventory/vehicles", headers=headers, json=_vehicle_body(
        edge, trim=f"{model}/trims/{uuid.uuid4()}"))
    assert ghost.status_code == 404


def test_who_may_change_stock(edge, client_session, manager_session, vehicle):
    client = bearer(client_session)
    assert edge.post("/inventory/vehicles", json={}).status_code == 401
    assert edge.post("/inventory/vehicles", json=_vehicle_body(edge), headers=client).status_code == 403
    assert edge.patch(f"/inventory/{vehicle['name']}", params={"update_mask": "colour"},
                      json={"colour": "pink"}, headers=client).status_code == 403
    assert edge.post(f"/inventory/{vehicle['name']}:reserve", json={"order_id": "x"},
                     headers=client).status_code == 403
    assert edge.get(f"/inventory/{vehicle['name']}").json()["colour"] == vehicle["colour"]
    ghost = f"vehicles/{uuid.uuid4()}"
    assert edge.get(f"/inventory/{ghost}").status_code == 404
    assert edge.patch(f"/inventory/{ghost}", params={"update_mask": "colour"}, json={"colour": "red"},
                      headers=bearer(manager_session)).status_code == 404
    malformed = edge.get("/inventory/vehicles/not-a-uuid")
    assert malformed.status_code == 400 and "name" in violations(malformed)


def test_reserve_release_and_sell(edge, manager_session, vehicle):
    headers = bearer(manager_session)
    name = vehicle["name"]
    held = edge.post(f"/inventory/{name}:reserve", json={"order_id": "order-1"}, headers=headers)
    assert held.status_code == 200, held.text
    assert held.json()["status"] == "VEHICLE_STATUS_RESERVED"
    assert held.json()["reservation"]["order_id"] == "order-1"
    again = edge.post(f"/inventory/{name}:reserve", json={"order_id": "order-1"}, headers=headers)
    assert again.json()["reservation"] == held.json()["reservation"]
    other = edge.post(f"/inventory/{name}:reserve", json={"order_id": "order-2"}, headers=headers)
    assert other.status_code == 400  # FAILED_PRECONDITION
    assert "reserved for another order" in other.json()["message"]
    freed = edge.post(f"/inventory/{name}:release", json={"order_id": "order-1"}, headers=headers)
    assert freed.json()["status"] == "VEHICLE_STATUS_AVAILABLE"
    edge.post(f"/inventory/{name}:reserve", json={"order_id": "order-2"}, headers=headers)
    sold = edge.post(f"/inventory/{name}:markSold", json={"order_id": "order-2"}, headers=headers)
    assert sold.json()["status"] == "VEHICLE_STATUS_SOLD"
    unsell = edge.post(f"/inventory/{name}:release", json={"order_id": "order-2"}, headers=headers)
    assert unsell.status_code == 400


@pytest.mark.parametrize("action", ["reserve", "release", "markSold"])
def test_stock_moves_refuse_what_they_cannot_do(edge, client_session, manager_session, vehicle, action):
    staff, path = bearer(manager_session), f"/inventory/{vehicle['name']}:{action}"
    assert edge.post(path, json={"order_id": "order-1"}).status_code == 401
    assert edge.post(path, json={"order_id": "order-1"}, headers=bearer(client_session)).status_code == 403
    unknown = edge.post(f"/inventory/vehicles/{uuid.uuid4()}:{action}", json={"order_id": "order-1"},
                        headers=staff)
    assert unknown.status_code == 404 and "does not exist" in unknown.json()["message"]
    malformed = edge.post(f"/inventory/vehicles/not-a-uuid:{action}", json={"order_id": "order-1"},
                          headers=staff)
    assert malformed.status_code == 400 and "name" in violations(malformed)
    no_order = edge.post(path, json={}, headers=staff)
    assert no_order.status_code == 400 and "order_id" in violations(no_order)
    assert edge.get(f"/inventory/{vehicle['name']}").json()["status"] == "VEHICLE_STATUS_AVAILABLE"


def test_only_the_holding_order_sells_or_releases_a_reserved_vehicle(edge, manager_session, vehicle):
    staff, name = bearer(manager_session), vehicle["name"]
    unreserved = edge.post(f"/inventory/{name}:markSold", json={"order_id": "order-1"}, headers=staff)
    assert unreserved.status_code == 400 and unreserved.json()["code"] == 9  # FAILED_PRECONDITION
    edge.post(f"/inventory/{name}:reserve", json={"order_id": "order-1"}, headers=staff)
    stranger = edge.post(f"/inventory/{name}:markSold", json={"order_id": "order-2"}, headers=staff)
    assert stranger.status_code == 400 and stranger.json()["code"] == 9
    foreign_release = edge.post(f"/inventory/{name}:release", json={"order_id": "order-2"}, headers=staff)
    assert foreign_release.status_code == 400
    assert "reserved for another order" in foreign_release.json()["message"]
    still = edge.get(f"/inventory/{name}").json()
    assert still["status"] == "VEHICLE_STATUS_RESERVED" and still["reservation"]["order_id"] == "order-1"


def test_update_with_a_field_mask(edge, manager_session, vehicle):
    headers = bearer(manager_session)
    changed = edge.patch(f"/inventory/{vehicle['name']}", params={"update_mask": "colour,price_override"},
                         json={"colour": "red", "price_override": {"amount": "1299000"}}, headers=headers)
    assert changed.status_code == 200, changed.text
    assert changed.json()["colour"] == "red" and changed.json()["price"]["amount"] == "1299000.00"
    frozen = edge.patch(f"/inventory/{vehicle['name']}", params={"update_mask": "vin"},
                        json={"vin": _new_vin()}, headers=headers)
    assert frozen.status_code == 400


async def test_inventory_over_native_grpc(edge_channel):
    stub = inventory_pb2_grpc.InventoryServiceStub(edge_channel)
    page = await stub.ListVehicles(inventory_pb2.ListVehiclesRequest(
        page_size=5, status=inventory_pb2.VEHICLE_STATUS_AVAILABLE))
    assert len(page.vehicles) == 5 and page.next_page_token
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await stub.ReserveVehicle(inventory_pb2.ReserveVehicleRequest(name=page.vehicles[0].name, order_id="x"))
    assert error.value.code() == grpc.StatusCode.UNAUTHENTICATED


@pytest.mark.disruptive
def test_catalog_down_gives_503_not_a_hang(edge, manager_session):
    body = _vehicle_body(edge)
    supervisor.ctl("stop", "catalog:*")
    try:
        with within_deadline(edge):
            response = edge.post("/inventory/vehicles", json=body, headers=bearer(manager_session))
        assert response.status_code == 503, response.text
        # Reads of stock do not need the catalogue.
        assert edge.get("/inventory/vehicles", params={"page_size": 1}).status_code == 200
    finally:
        supervisor.ctl("start", "catalog:*")
    for _ in range(100):
        if edge.post("/inventory/vehicles", json={**body, "vin": _new_vin()},
                     headers=bearer(manager_session)).status_code == 200:
            break
        time.sleep(0.3)
    else:
        pytest.fail("inventory did not recover after catalog came back")


def test_a_retried_vehicle_with_one_key_is_added_once(edge, manager_session):
    staff = bearer(manager_session)
    key = {"Idempotency-Key": f"vehicle-{uuid.uuid4()}"}
    body = _vehicle_body(edge)
    first, again = (edge.post("/inventory/vehicles", headers={**staff, **key}, json=body) for _ in range(2))
    assert first.status_code == again.status_code == 200, first.text + again.text
    assert again.json() == first.json()
    assert edge.post("/inventory/vehicles", headers=staff, json=body).status_code == 409
