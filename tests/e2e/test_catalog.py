"""catalog end to end through the edge: public reads, staff writes, search, price history."""
import uuid

import grpc
import pytest

from autosalon.catalog.v1 import catalog_pb2, catalog_pb2_grpc
from services.kit import paging

from .conftest import bearer
from .test_auth_rest import offending_fields, violations


def new_model(**overrides) -> dict:
    model = {
        "brand": "Testmobil", "model": f"T-{uuid.uuid4().hex[:8]}", "year": 2025,
        "body_type": "BODY_TYPE_CROSSOVER",
        "base_price": {"currency_code": "RUB", "amount": "2500000.00"},
        "specifications": {
            "engine_type": "ENGINE_TYPE_PETROL", "engine_volume_l": "1.5", "power_hp": 150,
            "transmission": "TRANSMISSION_CVT", "drive": "DRIVE_FRONT", "seats": 5,
        },
    }
    return {**model, **overrides}


@pytest.fixture
def created(edge, manager_session) -> dict:
    response = edge.post("/catalog/models", json=new_model(), headers=bearer(manager_session))
    assert response.status_code == 200, response.text
    return response.json()


def test_demo_showroom_is_public_and_paged(edge):
    first = edge.get("/catalog/models", params={"page_size": 10})
    assert first.status_code == 200, first.text
    page = first.json()
    assert page["total_size"] >= 30 and len(page["models"]) == 10 and page["next_page_token"]
    names, token = set(), ""
    while True:
        response = edge.get("/catalog/models", params={"page_size": 10, "page_token": token}).json()
        names |= {model["name"] for model in response["models"]}
        token = response["next_page_token"]
        if not token:
            break
    assert len(names) == page["total_size"]
    assert all(model["trims"] == [] for model in page["models"])
    trims = sum(len(model["trims"]) for model in edge.get(
        "/catalog/models", params={"page_size": 500, "view": "MODEL_VIEW_FULL"}).json()["models"])
    assert trims >= 100


def test_search_filters_and_sorts(edge):
    response = edge.get("/catalog/models", params={
        "filter": "power_hp >= 150 AND engine_type = ENGINE_TYPE_PETROL",
        "price_max": "4000000", "order_by": "price desc", "page_size": 100})
    assert response.status_code == 200, response.text
    models = response.json()["models"]
    assert models
    prices = [float(model["base_price"]["amount"]) for model in models]
    assert prices == sorted(prices, reverse=True) and max(prices) <= 4_000_000
    assert all(model["specifications"]["power_hp"] >= 150 for model in models)
    assert all(model["specifications"]["engine_type"] == "ENGINE_TYPE_PETROL" for model in models)
    # Spaces as "+" (form encoding, as above) and as %20 mean the same search.
    encoded = edge.get("/catalog/models?filter=power_hp%20%3E%3D%20150%20AND%20engine_type%20%3D%20"
                       "ENGINE_TYPE_PETROL&price_max=4000000&order_by=price%20desc&page_size=100")
    assert encoded.json()["models"] == models

    haval = edge.get("/catalog/models", params={"brand": "haval", "model": "jol"}).json()["models"]
    assert [model["model"] for model in haval] == ["Jolion"]
    suvs = edge.get("/catalog/models", params={"body_type": "BODY_TYPE_SUV", "year_min": 2025}).json()
    assert suvs["models"] and all(m["body_type"] == "BODY_TYPE_SUV" for m in suvs["models"])


@pytest.mark.parametrize(
    "params, field",
    [
        ({"filter": "wheels > 3"}, "filter"),
        ({"price_min": "cheap"}, "price_min"),
        ({"order_by": "colour"}, "order_by"),
        ({"year_min": 2025, "year_max": 2000}, "year_max"),
        ({"page_size": -5}, "page_size"),
        ({"page_token": "garbage"}, "page_token"),
    ],
)
def test_bad_searches_are_400_with_the_field(edge, params, field):
    response = edge.get("/catalog/models", params=params)
    assert response.status_code == 400, response.text
    assert field in violations(response)


def test_staff_create_and_read_model_and_trims(edge, manager_session, created):
    headers = bearer(manager_session)
    trim = edge.post(f"/catalog/{created['name']}/trims", headers=headers, json={
        "display_name": "Prestige", "price_delta": {"amount": "300000"}, "features": ["leather"]})
    assert trim.status_code == 200, trim.text
    assert trim.json()["price"]["amount"] == "2800000.00"
    duplicate = edge.post(f"/catalog/{created['name']}/trims", headers=headers, json={
        "display_name": "prestige", "price_delta": {"amount": "1"}})
    assert duplicate.status_code == 409
    fetched = edge.get(f"/catalog/{created['name']}")
    assert fetched.status_code == 200
    assert [t["display_name"] for t in fetched.json()["trims"]] == ["Prestige"]
    assert edge.get(f"/catalog/{created['name']}/trims").json()["trims"][0]["name"] == trim.json()["name"]
    assert edge.get(f"/catalog/{trim.json()['name']}").json()["display_name"] == "Prestige"


def test_model_validation_and_duplicates(edge, manager_session, created):
    headers = bearer(manager_session)
    bad = edge.post("/catalog/models", headers=headers, json=new_model(
        year=1900, base_price={"amount": "0"}, body_type="BODY_TYPE_UNSPECIFIED"))
    assert bad.status_code == 400
    assert {"model.year", "model.base_price", "model.body_type"} <= set(violations(bad))
    twice = edge.post("/catalog/models", headers=headers, json=new_model(
        brand=created["brand"].upper(), model=created["model"]))
    assert twice.status_code == 409


def test_who_may_write(edge, client_session, manager_session, created):
    assert edge.post("/catalog/models", json=new_model()).status_code == 401
    assert edge.post("/catalog/models", json=new_model(), headers=bearer(client_session)).status_code == 403
    assert edge.delete(f"/catalog/{created['name']}", headers=bearer(manager_session)).status_code == 403
    history = edge.get(f"/catalog/{created['name']}/price-history", headers=bearer(client_session))
    assert history.status_code == 403


def test_price_history_needs_staff_and_a_known_model(edge, manager_session):
    assert edge.get(f"/catalog/models/{uuid.uuid4()}/price-history").status_code == 401
    unknown = edge.get(f"/catalog/models/{uuid.uuid4()}/price-history", headers=bearer(manager_session))
    assert unknown.status_code == 404, unknown.text
    malformed = edge.get("/catalog/models/not-a-uuid/price-history", headers=bearer(manager_session))
    assert malformed.status_code == 400, malformed.text


def test_price_change_is_kept_in_history(edge, manager_session, created):
    headers = bearer(manager_session)
    changed = edge.patch(f"/catalog/{created['name']}", params={"update_mask": "base_price"},
                         json={"base_price": {"amount": "2450000.50"}}, headers=headers)
    assert changed.status_code == 200, changed.text
    assert changed.json()["base_price"]["amount"] == "2450000.50"
    renamed = edge.patch(f"/catalog/{created['name']}", params={"update_mask": "description"},
                         json={"description": "no price change"}, headers=headers)
    assert renamed.status_code == 200
    history = edge.get(f"/catalog/{created['name']}/price-history", headers=headers)
    assert history.status_code == 200, history.text
    changes = history.json()["price_changes"]
    assert len(changes) == 1
    assert changes[0]["old_price"]["amount"] == "2500000.00"
    assert changes[0]["new_price"]["amount"] == "2450000.50"
    assert changes[0]["changed_by"].startswith("users/")


def test_admin_deletes_and_unknown_ids_are_404(edge, admin_session, created):
    headers = bearer(admin_session)
    assert edge.delete(f"/catalog/{created['name']}", headers=headers).status_code == 200
    assert edge.get(f"/catalog/{created['name']}").status_code == 404
    assert edge.delete(f"/catalog/{created['name']}", headers=headers).status_code == 404
    assert edge.get("/catalog/models/not-a-uuid").status_code == 400


def test_trims_and_model_changes_refuse_what_they_must(
        edge, client_session, manager_session, admin_session, created):
    staff, client = bearer(manager_session), bearer(client_session)
    trims = f"/catalog/{created['name']}/trims"
    body = {"display_name": "Comfort", "price_delta": {"amount": "100000"}}
    assert edge.post(trims, json=body).status_code == 401
    assert edge.post(trims, headers=client, json=body).status_code == 403
    assert edge.patch(f"/catalog/{created['name']}", headers=client, params={"update_mask": "description"},
                      json={"description": "mine"}).status_code == 403
    trim = edge.post(trims, headers=staff, json=body).json()
    assert edge.patch(f"/catalog/{trim['name']}", headers=client, params={"update_mask": "display_name"},
                      json={"display_name": "Hacked"}).status_code == 403
    assert edge.delete(f"/catalog/{trim['name']}", headers=staff).status_code == 403  # admins only
    nameless = edge.post(trims, headers=staff, json={"price_delta": {"amount": "1"}})
    assert nameless.status_code == 400 and "trim.display_name" in violations(nameless)
    ghost_model = f"models/{uuid.uuid4()}"
    assert edge.get(f"/catalog/{ghost_model}/trims").status_code == 404
    assert edge.post(f"/catalog/{ghost_model}/trims", headers=staff, json=body).status_code == 404
    assert edge.patch(f"/catalog/{ghost_model}", headers=staff, params={"update_mask": "description"},
                      json={"description": "x"}).status_code == 404
    ghost_trim = f"{created['name']}/trims/{uuid.uuid4()}"
    assert edge.get(f"/catalog/{ghost_trim}").status_code == 404
    assert edge.patch(f"/catalog/{ghost_trim}", headers=staff, params={"update_mask": "display_name"},
                      json={"display_name": "x"}).status_code == 404
    assert edge.delete(f"/catalog/{ghost_trim}", headers=bearer(admin_session)).status_code == 404
    assert edge.delete(f"/catalog/{trim['name']}", headers=bearer(admin_session)).status_code == 200
    assert edge.get(f"/catalog/{trim['name']}").status_code == 404


def test_renaming_a_model_onto_another_is_409_and_changes_nothing(edge, manager_session, created):
    """A model is brand + model + year, case-insensitively: an update that would make a second
    one is refused whole, its other masked fields (a price) included."""
    headers = bearer(manager_session)
    other = edge.post("/catalog/models", headers=headers, json=new_model(base_price={"amount": "1990000.00"}))
    older = edge.post("/catalog/models", headers=headers, json=new_model(model=created["model"], year=2024))
    assert other.status_code == older.status_code == 200, other.text + older.text
    other, older = other.json(), older.json()

    def update(target: dict, mask: str, **fields):
        return edge.patch(f"/catalog/{target['name']}", params={"update_mask": mask}, json=fields, headers=headers)

    refused = [
        update(other, "model", model=created["model"].lower()),
        update(other, "brand,model", brand=created["brand"].upper(), model=created["model"]),
        update(other, "model,base_price,description", model=created["model"],
               base_price={"amount": "1.00"}, description="renamed"),
        update(older, "year", year=created["year"]),
    ]
    for response in refused:
        assert response.status_code == 409, response.text
        assert response.json()["code"] == 6  # ALREADY_EXISTS
        assert "is already in the catalogue" in response.json()["message"]
    for model in (other, older, created):
        assert edge.get(f"/catalog/{model['name']}").json() == model
    history = edge.get(f"/catalog/{other['name']}/price-history", headers=headers).json()
    assert history.get("price_changes", []) == []
    # The same name in another year is another model: the rule is the triple, not the name.
    moved = update(older, "year", year=2023)
    assert moved.status_code == 200, moved.text
    assert (moved.json()["model"], moved.json()["year"]) == (created["model"], 2023)


def test_renaming_a_trim_onto_another_of_its_model_is_409_and_changes_nothing(edge, manager_session, created):
    """Trim names are unique within a model, case-insensitively; another model may share them."""
    headers = bearer(manager_session)
    trims = f"/catalog/{created['name']}/trims"
    comfort = edge.post(trims, headers=headers, json={"display_name": "Comfort", "price_delta": {"amount": "100000"}})
    prestige = edge.post(trims, headers=headers, json={"display_name": "Prestige", "price_delta": {"amount": "300000"},
                                                      "features": ["leather"]})
    assert comfort.status_code == prestige.status_code == 200, comfort.text + prestige.text
    comfort, prestige = comfort.json(), prestige.json()

    def update(target: dict, mask: str, **fields):
        return edge.patch(f"/catalog/{target['name']}", params={"update_mask": mask}, json=fields, headers=headers)

    for response in (update(prestige, "display_name", display_name="COMFORT"),
                     update(prestige, "display_name,price_delta,features", display_name=" comfort ",
                            price_delta={"amount": "1"}, features=["none"])):
        assert response.status_code == 409, response.text
        assert response.json()["code"] == 6  # ALREADY_EXISTS
        assert "already has a trim" in response.json()["message"]
    assert edge.get(f"/catalog/{prestige['name']}").json() == prestige
    assert edge.get(f"/catalog/{comfort['name']}").json() == comfort
    assert edge.get(trims).json()["trims"] == [comfort, prestige]

    elsewhere = edge.post("/catalog/models", headers=headers, json=new_model()).json()
    lone = edge.post(f"/catalog/{elsewhere['name']}/trims", headers=headers,
                     json={"display_name": "Prestige", "price_delta": {"amount": "1"}}).json()
    shared = update(lone, "display_name", display_name="Comfort")
    assert shared.status_code == 200, shared.text
    assert shared.json()["display_name"] == "Comfort"


@pytest.mark.parametrize(
    "params, field",
    [
        ({"page_token": "garbage"}, "page_token"),
        ({"page_size": -1}, "page_size"),
        # Well-formed tokens of this very query whose position is not a price change's.
        ({"position": ["x"]}, "page_token"),
        ({"position": [None]}, "page_token"),
    ],
    ids=["garbage-token", "negative-size", "token-with-a-text-position", "token-with-a-null-position"],
)
def test_bad_price_history_pages_are_400_with_the_field(edge, manager_session, created, params, field):
    if "position" in params:
        query = {"model": created["name"].removeprefix("models/")}
        params = {"page_token": paging.encode_token(params["position"], query)}
    response = edge.get(f"/catalog/{created['name']}/price-history", params=params,
                        headers=bearer(manager_session))
    assert response.status_code == 400, response.text
    assert field in violations(response)


async def test_catalog_over_native_grpc(edge_channel):
    stub = catalog_pb2_grpc.CatalogServiceStub(edge_channel)
    page = await stub.ListModels(catalog_pb2.ListModelsRequest(
        page_size=3, brand="Lada", view=catalog_pb2.MODEL_VIEW_FULL))
    assert len(page.models) == 3 and all(model.brand == "Lada" for model in page.models)
    assert all(model.trims for model in page.models)
    model = await stub.GetModel(catalog_pb2.GetModelRequest(name=page.models[0].name))
    assert model.trims
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await stub.CreateModel(catalog_pb2.CreateModelRequest(model=catalog_pb2.VehicleModel()))
    assert error.value.code() == grpc.StatusCode.UNAUTHENTICATED
    with pytest.raises(grpc.aio.AioRpcError) as missing:
        await stub.GetModel(catalog_pb2.GetModelRequest(name=f"models/{uuid.uuid4()}"))
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND


def test_a_retried_model_or_trim_with_one_key_is_created_once(edge, manager_session):
    """A retry with the same Idempotency-Key is answered with the first result, not a 409."""
    staff = bearer(manager_session)
    key = {"Idempotency-Key": f"model-{uuid.uuid4()}"}
    body = new_model()
    first, again = (edge.post("/catalog/models", headers={**staff, **key}, json=body) for _ in range(2))
    assert first.status_code == again.status_code == 200, first.text + again.text
    assert again.json() == first.json()
    assert edge.post("/catalog/models", headers=staff, json=body).status_code == 409
    trims = f"/catalog/{first.json()['name']}/trims"
    key = {"Idempotency-Key": f"trim-{uuid.uuid4()}"}
    trim = {"display_name": "Comfort", "price_delta": {"amount": "90000"}}
    made = [edge.post(trims, headers={**staff, **key}, json=trim) for _ in range(2)]
    assert made[0].status_code == made[1].status_code == 200 and made[0].json() == made[1].json()
    assert [t["name"] for t in edge.get(trims).json()["trims"]] == [made[0].json()["name"]]
    # The key stands for its first request only: another body with it is refused, not answered.
    other = edge.post(trims, headers={**staff, **key}, json={**trim, "display_name": "Luxe"})
    assert other.status_code == 400 and offending_fields(other) == {"idempotency_key"}, other.text


def test_staff_set_the_options_a_trim_offers_and_pricing_prices_them_from_there(edge, manager_session):
    staff = bearer(manager_session)
    model = edge.post("/catalog/models", headers=staff, json=new_model()).json()
    trims = f"/catalog/{model['name']}/trims"
    bad = edge.post(trims, headers=staff, json={
        "display_name": "Comfort", "price_delta": {"amount": "0"},
        "options": [{"name": "tow bar", "price": {"amount": "-5"}}, {"name": "Tow Bar", "price": {"amount": "1"}}]})
    assert bad.status_code == 400
    assert {"trim.options[0].price", "trim.options[1].name"} <= set(violations(bad))
    trim = edge.post(trims, headers=staff, json={
        "display_name": "Comfort", "price_delta": {"amount": "0"},
        "options": [{"name": "tow bar", "price": {"amount": "41000"}}]}).json()
    assert trim["options"] == [{"name": "tow bar", "price": {"currency_code": "RUB", "amount": "41000.00"}}]
    repriced = edge.patch(f"/catalog/{trim['name']}", params={"update_mask": "options"}, headers=staff,
                          json={"options": [{"name": "tow bar", "price": {"amount": "43000"}}]})
    assert repriced.status_code == 200, repriced.text
    quote = edge.post("/pricing/quotes", json={"trim": trim["name"], "options": [{"name": "tow bar"}]})
    assert quote.status_code == 200, quote.text
    assert quote.json()["options"][0]["price"]["amount"] == "43000.00"
