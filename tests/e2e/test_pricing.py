"""pricing end to end: discounts, promo codes, quotes through the edge."""
import time
import uuid

from services.kit.db import now
from services.pricing import demo
from tests import readme

from .conftest import bearer
from .test_auth_rest import violations
from .test_catalog import new_model


def _vesta(edge) -> dict:
    return edge.get("/catalog/models", params={"brand": "lada", "model": "vesta",
                                               "view": "MODEL_VIEW_FULL"}).json()["models"][0]


def _order() -> str:
    return f"orders/{uuid.uuid4()}"


def _customer() -> str:
    return f"customers/{uuid.uuid4()}"


def _code() -> str:
    return f"T{uuid.uuid4().hex[:8].upper()}"


def test_quote_breakdown_with_a_promo_code(edge, manager_session):
    model = _vesta(edge)
    trim = model["trims"][-1]
    code = _code()
    created = edge.post("/pricing/discounts", headers=bearer(manager_session), json={
        "title": "Test 10 %", "kind": "DISCOUNT_KIND_PERCENTAGE", "value": "10",
        "code": code.lower(), "stackable": True, "usage_limit": 5,
        "scope": {"brands": ["Lada"]}})
    assert created.status_code == 200, created.text
    assert created.json()["code"] == code
    quote = edge.post("/pricing/quotes", json={
        "trim": trim["name"], "promo_code": code,
        # A client names an option; its price is the trim's (a price sent is not read).
        "options": [{"name": "Winter Tyres", "price": {"amount": "0.00"}}]})
    assert quote.status_code == 200, quote.text
    body = quote.json()
    assert body["options"] == [{"name": "winter tyres", "price": {"currency_code": "RUB", "amount": "60000.00"}}]
    subtotal = float(trim["price"]["amount"]) + 60000
    assert float(body["subtotal"]["amount"]) == subtotal
    assert body["code_problem"] == ""
    assert 0 <= float(body["total"]["amount"]) <= subtotal * 0.9 + 0.01
    labels = [line["label"] for line in body["lines"]]
    assert "option: winter tyres" in labels and "discount: Test 10 %" in labels
    assert edge.get(f"/pricing/promo-codes/{code.lower()}").json()["title"] == "Test 10 %"


def test_a_bad_code_is_reported_not_refused(edge):
    trim = _vesta(edge)["trims"][0]
    quote = edge.post("/pricing/quotes", json={"trim": trim["name"], "promo_code": "NOPE-NOPE"})
    assert quote.status_code == 200
    assert quote.json()["code_problem"] == "unknown promo code"
    assert edge.get("/pricing/promo-codes/NOPE-NOPE").status_code == 404


def test_a_quote_for_an_unknown_trim_is_404(edge):
    ghost_model = edge.post("/pricing/quotes", json={"trim": f"models/{uuid.uuid4()}/trims/{uuid.uuid4()}"})
    assert ghost_model.status_code == 404 and "does not exist" in ghost_model.json()["message"]
    model = _vesta(edge)["name"]
    ghost_trim = edge.post("/pricing/quotes", json={"trim": f"{model}/trims/{uuid.uuid4()}"})
    assert ghost_trim.status_code == 404, ghost_trim.text


def test_bad_input_and_who_may_manage(edge, client_session, manager_session):
    assert edge.post("/pricing/discounts", json={}).status_code == 401
    assert edge.post("/pricing/discounts", json={"title": "x"},
                     headers=bearer(client_session)).status_code == 403
    bad = edge.post("/pricing/discounts", headers=bearer(manager_session), json={
        "title": "", "kind": "DISCOUNT_KIND_PERCENTAGE", "value": "150"})
    assert bad.status_code == 400
    assert {"discount.title", "discount.value", "discount.code"} <= set(violations(bad))
    options = edge.post("/pricing/quotes", json={
        "trim": "models/x/trims/y", "options": [{"name": "", "price": {"amount": "-1"}}]})
    assert options.status_code == 400
    trim = _vesta(edge)["trims"][0]["name"]
    unknown = edge.post("/pricing/quotes", json={"trim": trim, "options": [{"name": "gold plating"}, {"name": ""}]})
    assert unknown.status_code == 400 and {"options[0].name", "options[1].name"} <= set(violations(unknown))
    assert "it offers: winter tyres, tow bar" in unknown.text


def test_promo_code_with_limit_one_redeemed_once_and_idempotently(edge, manager_session):
    headers = bearer(manager_session)
    code = _code()
    assert edge.post("/pricing/discounts", headers=headers, json={
        "title": "One only", "kind": "DISCOUNT_KIND_FIXED", "value": "50000", "code": code,
        "usage_limit": 1}).status_code == 200
    use = {"order_id": _order(), "customer": _customer()}
    first = edge.post(f"/pricing/promo-codes/{code}:redeem", headers=headers, json=use)
    assert first.status_code == 200, first.text
    again = edge.post(f"/pricing/promo-codes/{code}:redeem", headers=headers, json=use)
    assert again.json() == first.json()
    second = edge.post(f"/pricing/promo-codes/{code}:redeem", headers=headers,
                       json={"order_id": _order(), "customer": _customer()})
    assert second.status_code == 429  # RESOURCE_EXHAUSTED: used up
    duplicate = edge.post("/pricing/discounts", headers=headers, json={
        "title": "Same code", "kind": "DISCOUNT_KIND_FIXED", "value": "1", "code": code.lower()})
    assert duplicate.status_code == 409


def test_update_a_discount_with_a_field_mask(edge, manager_session):
    headers = bearer(manager_session)
    code = _code()
    created = edge.post("/pricing/discounts", headers=headers, json={
        "title": "Spring", "kind": "DISCOUNT_KIND_FIXED", "value": "10000", "code": code,
        "usage_limit": 3}).json()
    changed = edge.patch(f"/pricing/{created['name']}", headers=headers,
                         params={"update_mask": "title,value"}, json={"title": "Spring+", "value": "15000"})
    assert changed.status_code == 200, changed.text
    assert (changed.json()["title"], changed.json()["value"], changed.json()["code"]) == (
        "Spring+", "15000.00", code)
    fixed = edge.patch(f"/pricing/{created['name']}", headers=headers,
                       params={"update_mask": "code"}, json={"code": "OTHER"})
    assert fixed.status_code == 400
    for _ in range(2):
        assert edge.post(f"/pricing/promo-codes/{code}:redeem", headers=headers,
                         json={"order_id": _order(), "customer": _customer()}).status_code == 200
    too_low = edge.patch(f"/pricing/{created['name']}", headers=headers,
                         params={"update_mask": "usage_limit"}, json={"usage_limit": 1})
    assert too_low.status_code == 400
    assert "used 2 times" in too_low.json()["message"]


def test_discounts_are_staff_only_and_unknown_ones_404(edge, client_session, manager_session, admin_session):
    staff, client = bearer(manager_session), bearer(client_session)
    created = edge.post("/pricing/discounts", headers=staff, json={
        "title": "Winter", "kind": "DISCOUNT_KIND_FIXED", "value": "1000", "code": _code()}).json()
    name = created["name"]
    assert edge.get("/pricing/discounts").status_code == 401
    assert edge.get("/pricing/discounts", headers=client).status_code == 403
    assert edge.get(f"/pricing/{name}", headers=client).status_code == 403
    assert edge.patch(f"/pricing/{name}", headers=client, params={"update_mask": "title"},
                      json={"title": "Mine"}).status_code == 403
    assert edge.delete(f"/pricing/{name}", headers=staff).status_code == 403  # admins only
    assert edge.post(f"/pricing/promo-codes/{created['code']}:redeem", headers=client,
                     json={"order_id": _order(), "customer": _customer()}).status_code == 403
    ghost = f"discounts/{uuid.uuid4()}"
    assert edge.get(f"/pricing/{ghost}", headers=staff).status_code == 404
    assert edge.patch(f"/pricing/{ghost}", headers=staff, params={"update_mask": "title"},
                      json={"title": "x"}).status_code == 404
    assert edge.delete(f"/pricing/{ghost}", headers=bearer(admin_session)).status_code == 404
    malformed = edge.get("/pricing/discounts/not-a-uuid", headers=staff)
    assert malformed.status_code == 400 and "name" in violations(malformed)
    unknown_code = edge.post("/pricing/promo-codes/NO-SUCH-CODE:redeem", headers=staff,
                             json={"order_id": _order(), "customer": _customer()})
    assert unknown_code.status_code == 404
    incomplete = edge.post(f"/pricing/promo-codes/{created['code']}:redeem", headers=staff, json={})
    assert incomplete.status_code == 400
    assert {"order_id", "customer"} <= set(violations(incomplete))
    for odd, field in (({"order_id": "o-1", "customer": _customer()}, "order_id"),
                       ({"order_id": _order(), "customer": "a" * 300}, "customer")):
        malformed_use = edge.post(f"/pricing/promo-codes/{created['code']}:redeem", headers=staff, json=odd)
        assert malformed_use.status_code == 400, malformed_use.text
        assert set(violations(malformed_use)) == {field}
    assert edge.get(f"/pricing/{name}", headers=staff).json()["title"] == "Winter"
    deleted = edge.delete(f"/pricing/{name}", headers=bearer(admin_session))
    assert deleted.status_code == 200, deleted.text
    assert edge.get(f"/pricing/{name}", headers=staff).status_code == 404


def test_bad_discount_pages_are_400_with_the_field(edge, manager_session):
    staff = bearer(manager_session)
    for params, field in (({"page_token": "garbage"}, "page_token"), ({"page_size": -1}, "page_size")):
        response = edge.get("/pricing/discounts", params=params, headers=staff)
        assert response.status_code == 400, response.text
        assert field in violations(response)


def test_a_retried_discount_with_one_key_is_created_once(edge, manager_session):
    staff = bearer(manager_session)
    body = {"title": f"Autumn {uuid.uuid4().hex[:6]}", "kind": "DISCOUNT_KIND_FIXED", "value": "15000",
            "automatic": True, "scope": {"brands": ["NoSuchBrand"]}}
    key = {"Idempotency-Key": f"discount-{uuid.uuid4()}"}
    first, again = (edge.post("/pricing/discounts", headers={**staff, **key}, json=body) for _ in range(2))
    assert first.status_code == again.status_code == 200, first.text + again.text
    assert again.json() == first.json()
    listed = edge.get("/pricing/discounts", headers=staff, params={"page_size": 500}).json()["discounts"]
    assert [d["name"] for d in listed if d["title"] == body["title"]] == [first.json()["name"]]


def new_trim(edge, manager_session) -> dict:
    """A trim of a model made just now: no quote has asked catalog for it yet."""
    headers = bearer(manager_session)
    model = edge.post("/catalog/models", json=new_model(), headers=headers).json()
    trim = edge.post(f"/catalog/{model['name']}/trims", headers=headers, json={
        "display_name": "Base", "price_delta": {"amount": "100000"}})
    assert trim.status_code == 200, trim.text
    return trim.json()


def test_a_catalogue_price_change_holds_for_the_next_quote(edge, manager_session):
    """pricing keeps models a few seconds, and drops them on catalog's event of a change."""
    trim = new_trim(edge, manager_session)
    first = edge.post("/pricing/quotes", json={"trim": trim["name"]})
    assert first.json()["total"]["amount"] == "2600000.00"
    model = trim["name"].rsplit("/trims/", 1)[0]
    changed = edge.patch(f"/catalog/{model}", params={"update_mask": "base_price"}, headers=bearer(manager_session),
                         json={"base_price": {"amount": "2000000.00"}})
    assert changed.status_code == 200, changed.text
    deadline = time.monotonic() + 3  # well inside the 10 s a model is kept without an event
    while (total := edge.post("/pricing/quotes", json={"trim": trim["name"]}).json()["total"]["amount"]) != "2100000.00":
        assert time.monotonic() < deadline, f"the quote still says {total}"
        time.sleep(0.1)


def test_the_showroom_has_its_demo_promo_codes(edge):
    """./scripts/up's seed adds them (services/pricing/demo.py), the README's among them: each is
    known and takes its discount off a Haval's quote."""
    trim = edge.get("/catalog/models", params={"brand": "haval", "view": "MODEL_VIEW_FULL"}).json()["models"][0]["trims"][0]
    codes = {discount.code for discount in demo.promo_codes(now())}
    assert readme.promo_codes(readme.calling_it()) <= codes
    for code in sorted(codes):
        assert edge.get(f"/pricing/promo-codes/{code}").status_code == 200, code
        quote = edge.post("/pricing/quotes", json={"trim": trim["name"], "promo_code": code}).json()
        assert quote["code_problem"] == "" and float(quote["discount_total"]["amount"]) > 0, (code, quote)
