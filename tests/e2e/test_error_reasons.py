"""Every refusal says why in a google.rpc.ErrorInfo reason (proto/autosalon/ERRORS.md), the same
over REST and native gRPC through the edge, the edge's own refusals included; field violations
carry a reason each."""
import grpc
import pytest

from autosalon.auth.v1 import auth_pb2, auth_pb2_grpc
from autosalon.pricing.v1 import pricing_pb2, pricing_pb2_grpc

from .conftest import STRONG_PASSWORD, bearer, grpc_reason, json_detail, json_reason, login, new_email, register
from .purchase import create_order, new_vehicle
from .test_auth_rest import bad_authorization
from .test_pricing import _code, _customer, _order, _vesta


@pytest.mark.parametrize("kind, reason", [
    (None, "UNAUTHENTICATED"), ("garbage", "TOKEN_INVALID"), ("wrongly-signed", "TOKEN_INVALID"),
    ("other-audience", "TOKEN_INVALID"), ("expired", "TOKEN_EXPIRED"),
], ids=["no-token", "garbage", "wrongly-signed", "other-audience", "expired"])
def test_the_edge_says_what_is_wrong_with_a_token(edge, client_session, kind, reason):
    headers = bad_authorization(client_session, kind) if kind else {}
    refused = edge.get("/auth/me", headers=headers)
    assert refused.status_code == 401, refused.text
    assert refused.json()["code"] == 16
    assert json_reason(refused) == reason


@pytest.mark.parametrize("kind, reason", [
    (None, "UNAUTHENTICATED"), ("garbage", "TOKEN_INVALID"), ("other-audience", "TOKEN_INVALID"),
    ("expired", "TOKEN_EXPIRED"),
], ids=["no-token", "garbage", "other-audience", "expired"])
async def test_the_edge_says_what_is_wrong_with_a_token_over_grpc(edge_channel, client_session, kind, reason):
    metadata = tuple(bad_authorization(client_session, kind).items()) if kind else ()
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await auth_pb2_grpc.AuthServiceStub(edge_channel).GetCurrentUser(
            auth_pb2.GetCurrentUserRequest(), metadata=metadata, timeout=5)
    assert error.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert grpc_reason(error.value) == reason


async def test_a_method_no_service_has_is_unimplemented_with_its_reason(edge_channel, client_session):
    missing = edge_channel.unary_unary("/autosalon.nosuch.v1.NoSuchService/Get",
                                       request_serializer=bytes, response_deserializer=bytes)
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await missing(b"", metadata=tuple(bearer(client_session).items()), timeout=5)
    assert error.value.code() == grpc.StatusCode.UNIMPLEMENTED
    assert grpc_reason(error.value) == "NOT_FOUND"


def test_a_token_the_service_refuses_says_why(edge, client_session):
    """A token the edge passes (well signed, for this API) but whose role the service knows no
    such thing as."""
    refused = edge.get("/auth/me", headers=bad_authorization(client_session, "unknown-role"))
    assert refused.status_code == 401, refused.text
    assert json_reason(refused) == "TOKEN_INVALID"


async def test_a_wrong_password_over_rest_and_grpc(edge, edge_channel):
    user = register(edge)
    refused = edge.post("/auth/login", json={"email": user["email"], "password": STRONG_PASSWORD + "x"})
    assert refused.status_code == 401, refused.text
    assert json_reason(refused) == "WRONG_CREDENTIALS"
    stub = auth_pb2_grpc.AuthServiceStub(edge_channel)
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await stub.Login(auth_pb2.LoginRequest(email=new_email(), password=STRONG_PASSWORD))
    assert error.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert grpc_reason(error.value) == "WRONG_CREDENTIALS"


async def test_a_reused_refresh_token_over_rest_and_grpc(edge, edge_channel):
    """A spent refresh token used again is REFRESH_TOKEN_REUSED, and ends its sign-in: after
    that, it is no token at all (REFRESH_TOKEN_INVALID)."""
    user = register(edge)
    first = login(edge, user["email"], STRONG_PASSWORD)
    assert edge.post("/auth/refresh", json={"refresh_token": first["refresh_token"]}).status_code == 200
    reused = edge.post("/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert reused.status_code == 401, reused.text
    assert json_reason(reused) == "REFRESH_TOKEN_REUSED"
    again = edge.post("/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert json_reason(again) == "REFRESH_TOKEN_INVALID"

    stub = auth_pb2_grpc.AuthServiceStub(edge_channel)
    second = login(edge, user["email"], STRONG_PASSWORD)
    await stub.RefreshToken(auth_pb2.RefreshTokenRequest(refresh_token=second["refresh_token"]))
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await stub.RefreshToken(auth_pb2.RefreshTokenRequest(refresh_token=second["refresh_token"]))
    assert error.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert grpc_reason(error.value) == "REFRESH_TOKEN_REUSED"


def test_field_violations_carry_their_reasons(edge):
    refused = edge.post("/auth/register", json={
        "email": "not-an-address", "password": "short", "confirm_password": "short", "full_name": ""})
    assert refused.status_code == 400, refused.text
    assert json_reason(refused) == "INVALID_ARGUMENT"
    reasons = {(violation["field"], violation["reason"])
               for violation in json_detail(refused, "BadRequest")["field_violations"]}
    assert {("email", "INVALID_FORMAT"), ("password", "WEAK_PASSWORD"), ("full_name", "REQUIRED")} <= reasons


def test_an_email_taken(edge):
    user = register(edge)
    taken = edge.post("/auth/register", json={
        "email": user["email"], "password": STRONG_PASSWORD, "confirm_password": STRONG_PASSWORD,
        "full_name": "Ivan Petrov"})
    assert taken.status_code == 409, taken.text
    assert json_reason(taken) == "EMAIL_TAKEN"


def test_an_unavailable_vehicle_cannot_be_ordered_or_reserved_again(edge, manager_session, client_session):
    vehicle = new_vehicle(edge, manager_session)
    staff = bearer(manager_session)
    held = edge.post(f"/inventory/{vehicle['name']}:reserve", json={"order_id": "order-1"}, headers=staff)
    assert held.status_code == 200, held.text
    refused = create_order(edge, client_session, vehicle)
    assert refused.status_code == 400 and refused.json()["code"] == 9, refused.text  # FAILED_PRECONDITION
    assert json_reason(refused) == "VEHICLE_NOT_AVAILABLE"
    assert json_detail(refused, "ErrorInfo")["metadata"] == {
        "vehicle": vehicle["name"], "status": "reserved"}
    other = edge.post(f"/inventory/{vehicle['name']}:reserve", json={"order_id": "order-2"}, headers=staff)
    assert other.status_code == 400, other.text
    assert json_reason(other) == "VEHICLE_ALREADY_RESERVED"


async def test_a_used_up_promo_code_over_rest_and_grpc(edge, edge_channel, manager_session, client_session):
    staff, code = bearer(manager_session), _code()
    created = edge.post("/pricing/discounts", headers=staff, json={
        "title": "One only", "kind": "DISCOUNT_KIND_FIXED", "value": "50000", "code": code, "usage_limit": 1})
    assert created.status_code == 200, created.text
    first = edge.post(f"/pricing/promo-codes/{code}:redeem", headers=staff,
                      json={"order_id": _order(), "customer": _customer()})
    assert first.status_code == 200, first.text
    used_up = edge.post(f"/pricing/promo-codes/{code}:redeem", headers=staff,
                        json={"order_id": _order(), "customer": _customer()})
    assert used_up.status_code == 429, used_up.text
    assert json_reason(used_up) == "PROMO_CODE_USED_UP"
    assert json_detail(used_up, "ErrorInfo")["metadata"] == {"code": code}
    stub = pricing_pb2_grpc.PricingServiceStub(edge_channel)
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await stub.RedeemPromoCode(pricing_pb2.RedeemPromoCodeRequest(
            code=code, order_id=_order(), customer=_customer()),
            metadata=(("authorization", f"Bearer {manager_session['access_token']}"),))
    assert error.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert grpc_reason(error.value) == "PROMO_CODE_USED_UP"

    trim = _vesta(edge)["trims"][-1]["name"]
    quote = edge.post("/pricing/quotes", json={"trim": trim, "promo_code": code})
    assert quote.status_code == 200, quote.text
    assert quote.json()["code_problem_reason"] == "PROMO_CODE_USED_UP"
    # An order with the code is refused by sales with pricing's reason, on the field.
    ordered = create_order(edge, client_session, new_vehicle(edge, manager_session), promo_code=code)
    assert ordered.status_code == 400, ordered.text
    assert json_reason(ordered) == "PROMO_CODE_USED_UP"
    [violation] = json_detail(ordered, "BadRequest")["field_violations"]
    assert (violation["field"], violation["reason"]) == ("promo_code", "PROMO_CODE_USED_UP")


def test_an_unknown_promo_code(edge):
    unknown = edge.get(f"/pricing/promo-codes/{_code()}")
    assert unknown.status_code == 404, unknown.text
    assert json_reason(unknown) == "PROMO_CODE_UNKNOWN"


@pytest.mark.parametrize("body", ['{"email": ', "not json", '{"email": ["a@b.ru"]}'])
def test_an_unparsable_body_is_a_malformed_request(edge, body):
    refused = edge.post("/auth/login", content=body, headers={"content-type": "application/json"})
    assert refused.status_code == 400, refused.text
    assert refused.json()["code"] == 3
    assert json_reason(refused) == "MALFORMED_REQUEST"


def test_an_unknown_path_is_not_found(edge):
    refused = edge.get("/no/such/thing")
    assert refused.status_code == 404, refused.text
    assert json_reason(refused) == "NOT_FOUND"


def test_a_stale_etag_is_an_etag_mismatch(edge, client_session, manager_session):
    order = create_order(edge, client_session, new_vehicle(edge, manager_session))
    assert order.status_code == 200, order.text
    stale = int(order.json()["etag"]) + 5
    refused = edge.post(f"/sales/{order.json()['name']}:confirm", headers=bearer(client_session),
                        json={"etag": str(stale)})
    assert refused.status_code == 409, refused.text
    assert json_reason(refused) == "ETAG_MISMATCH"
