"""The kit's error mapping, access rules, token verification, paging, money and request checks."""
import asyncio
import time
import uuid
from datetime import datetime, timezone
from decimal import Decimal
from types import SimpleNamespace

import grpc
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from google.protobuf import struct_pb2
from google.rpc import error_details_pb2, status_pb2

from autosalon.pricing.v1 import pricing_pb2
from services.kit import calls, db, errors, identity, money, paging, protos, server, texts
from services.kit.server import status_for
from services.peers import catalog


@pytest.mark.parametrize(
    "error, code",
    [
        (errors.InvalidArgument({"email": "is wrong"}), grpc.StatusCode.INVALID_ARGUMENT),
        (errors.NotFound("no"), grpc.StatusCode.NOT_FOUND),
        (errors.AlreadyExists("dup"), grpc.StatusCode.ALREADY_EXISTS),
        (errors.FailedPrecondition("state"), grpc.StatusCode.FAILED_PRECONDITION),
        (errors.PermissionDenied("role"), grpc.StatusCode.PERMISSION_DENIED),
        (errors.Unauthenticated("token"), grpc.StatusCode.UNAUTHENTICATED),
        (errors.Conflict("version"), grpc.StatusCode.ABORTED),
        (errors.Unavailable("down"), grpc.StatusCode.UNAVAILABLE),
        (errors.ResourceExhausted("busy"), grpc.StatusCode.RESOURCE_EXHAUSTED),
    ],
)
def test_each_domain_error_has_its_status(error, code):
    status = status_for(error)
    assert status.code == code
    assert status.details == error.message


def _details(status) -> dict[str, object]:
    """The status's details by type name, each at most once."""
    rich = status_pb2.Status.FromString(dict(status.trailing_metadata)["grpc-status-details-bin"])
    found = {}
    for detail in rich.details:
        for kind in (error_details_pb2.BadRequest, error_details_pb2.ErrorInfo):
            if detail.Is(kind.DESCRIPTOR):
                assert kind.__name__ not in found
                found[kind.__name__] = kind()
                detail.Unpack(found[kind.__name__])
    assert len(found) == len(rich.details), rich
    return found


@pytest.mark.parametrize("error_class, reason", [
    (errors.NotFound, "NOT_FOUND"), (errors.AlreadyExists, "ALREADY_EXISTS"),
    (errors.FailedPrecondition, "FAILED_PRECONDITION"), (errors.PermissionDenied, "PERMISSION_DENIED"),
    (errors.Unauthenticated, "UNAUTHENTICATED"), (errors.Conflict, "CONFLICT"),
    (errors.Unavailable, "UNAVAILABLE"), (errors.ResourceExhausted, "RESOURCE_EXHAUSTED"),
])
def test_every_error_carries_its_classes_reason_unless_it_names_one(error_class, reason):
    info = _details(status_for(error_class("no")))["ErrorInfo"]
    assert (info.reason, info.domain, dict(info.metadata)) == (reason, "autosalon", {})
    named = _details(status_for(error_class("no", "ORDER_NOT_READY", {"order": "orders/1"})))["ErrorInfo"]
    assert (named.reason, dict(named.metadata)) == ("ORDER_NOT_READY", {"order": "orders/1"})


def test_every_domain_error_class_has_a_status_code_and_a_reason():
    classes = {cls for cls in vars(errors).values()
               if isinstance(cls, type) and issubclass(cls, errors.DomainError) and cls is not errors.DomainError}
    assert classes == set(server._CODE_FOR_ERROR)
    for cls in classes:
        assert cls.default_reason != errors.DomainError.default_reason, cls


def test_field_violations_become_bad_request_details_with_their_reasons():
    status = status_for(errors.InvalidArgument([
        ("email", "is wrong"), ("name", "is required"),
        errors.Violation("password", "too short", "WEAK_PASSWORD")]))
    details = _details(status)
    assert [(v.field, v.description, v.reason) for v in details["BadRequest"].field_violations] == [
        ("email", "is wrong", "INVALID"), ("name", "is required", "REQUIRED"),
        ("password", "too short", "WEAK_PASSWORD")]
    assert details["ErrorInfo"].reason == "INVALID_ARGUMENT"


def test_bad_input_without_fields_has_no_bad_request_but_its_reason():
    details = _details(status_for(errors.InvalidArgument([], "the request cannot be read", "MALFORMED")))
    assert set(details) == {"ErrorInfo"} and details["ErrorInfo"].reason == "MALFORMED"


def test_a_violation_is_still_the_field_and_description_pair():
    violation = errors.Violation("vin", "is required")
    assert violation == ("vin", "is required") and tuple(violation) == ("vin", "is required")
    field, description = violation
    assert (field, description, violation.reason) == ("vin", "is required", "REQUIRED")
    refused = errors.InvalidArgument({"vin": "must be 17 characters"})
    assert refused.violations == [("vin", "must be 17 characters")] and refused.violations[0].reason == "INVALID"


def test_violations_keep_their_reasons_when_gathered_or_prefixed():
    readers = {"a": lambda: texts_check("", "a"), "b": lambda: texts_check("x" * 9, "b")}
    with pytest.raises(errors.InvalidArgument) as refused:
        errors.each_field(readers, readers)
    assert [(v.field, v.reason) for v in refused.value.violations] == [("a", "REQUIRED"), ("b", "TOO_LONG")]
    assert [(v.field, v.reason) for v in errors.prefixed(refused.value.violations, "quote.")] == [
        ("quote.a", "REQUIRED"), ("quote.b", "TOO_LONG")]


def texts_check(text: str, field: str) -> str:
    return texts.check_text(text, field, longest=5, required=True)


def test_the_kits_own_refusals_say_why():
    with pytest.raises(errors.Unauthenticated) as none:
        identity.check_access("GetCurrentUser", identity.ANYONE_SIGNED_IN, None)
    assert none.value.reason == "UNAUTHENTICATED"
    with pytest.raises(errors.Conflict) as stale:
        protos.check_etag("3", 4, "orders/1", "etag")
    assert (stale.value.reason, stale.value.metadata) == ("ETAG_MISMATCH", {"resource": "orders/1", "etag": "4"})
    with pytest.raises(errors.InvalidArgument) as token:
        paging.decode_token("%%%garbage", {})
    assert token.value.violations[0].reason == "INVALID_PAGE_TOKEN"
    with pytest.raises(errors.InvalidArgument) as amount:
        money.parse_amount("1.001", "price")
    assert amount.value.violations[0].reason == "INVALID_FORMAT"


def _refusal(status: grpc.Status) -> grpc.aio.AioRpcError:
    """The error a caller of a peer meets when the peer answers `status`."""
    return grpc.aio.AioRpcError(status.code, grpc.aio.Metadata(), grpc.aio.Metadata(*status.trailing_metadata),
                                status.details)


@pytest.mark.parametrize("error", [
    errors.FailedPrecondition("order is paid", "ORDER_WRONG_STATE", {"status": "paid"}),
    errors.Unauthenticated("refresh token was already used", "REFRESH_TOKEN_REUSED"),
    errors.NotFound("no such thing"),
])
def test_a_peers_refusal_passed_on_keeps_its_reason(error):
    status = status_for(error)
    again = calls._domain_error("auth", _refusal(status))
    assert type(again) is type(error)
    assert (again.message, again.reason, again.metadata) == (f"auth: {error.message}", error.reason, error.metadata)


def test_a_refusal_without_error_info_gets_its_classes_reason():
    again = calls._domain_error("auth", grpc.aio.AioRpcError(
        grpc.StatusCode.NOT_FOUND, grpc.aio.Metadata(), grpc.aio.Metadata(), "gone"))
    assert isinstance(again, errors.NotFound) and again.reason == "NOT_FOUND"


def test_a_peers_field_refusal_passed_on_keeps_every_reason():
    error = errors.InvalidArgument([errors.Violation("promo_code", "promo code is used up", "PROMO_CODE_USED_UP"),
                                    ("options[0].name", "is required")], "no", "PROMO_CODE_USED_UP")
    status = status_for(error)
    again = calls._domain_error("pricing", _refusal(status))
    assert again.reason == "PROMO_CODE_USED_UP"
    assert [(v.field, v.reason) for v in again.violations] == [
        ("promo_code", "PROMO_CODE_USED_UP"), ("options[0].name", "REQUIRED")]


CLIENT = identity.Identity("u1", "client", "c@example.ru", "t")
ADMIN = identity.Identity("u2", "admin", "a@example.ru", "t")


def test_access_rules():
    identity.check_access("Login", identity.PUBLIC, None)
    identity.check_access("ListUsers", identity.ADMINS, ADMIN)
    with pytest.raises(errors.Unauthenticated):
        identity.check_access("GetCurrentUser", identity.ANYONE_SIGNED_IN, None)
    with pytest.raises(errors.PermissionDenied):
        identity.check_access("ListUsers", identity.ADMINS, CLIENT)
    with pytest.raises(errors.PermissionDenied):
        identity.check_access("Forgotten", None, ADMIN)


def _key_and_jwks(kid: str = "k1"):
    private = ec.generate_private_key(ec.SECP256R1())
    jwk = jwt.algorithms.ECAlgorithm.to_jwk(private.public_key(), as_dict=True)
    jwk.update(kid=kid, alg="ES256", use="sig")
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption())
    return pem, {"keys": [jwk]}


def _token(pem, kid="k1", **overrides):
    now = int(time.time())
    claims = {"iss": identity.ISSUER, "aud": identity.AUDIENCE, "sub": "u1", "role": "client",
              "email": "c@example.ru", "iat": now, "exp": now + 60, **overrides}
    return jwt.encode(claims, pem, algorithm="ES256", headers={"kid": kid})


def _verifier(jwks):
    async def fetch():
        return jwks
    return identity.TokenVerifier(fetch)


async def test_verifier_accepts_a_good_token():
    pem, jwks = _key_and_jwks()
    who = await _verifier(jwks).verify(_token(pem))
    assert (who.user_id, who.role) == ("u1", "client")


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"exp": int(time.time()) - 120}, "expired"),
        ({"aud": "someone-else"}, "invalid"),
        ({"iss": "evil"}, "invalid"),
        ({"role": "superuser"}, "role"),
    ],
)
async def test_verifier_rejects_bad_claims(overrides, message):
    pem, jwks = _key_and_jwks()
    with pytest.raises(errors.Unauthenticated, match=message):
        await _verifier(jwks).verify(_token(pem, **overrides))


async def test_a_token_of_a_changed_account_is_refused_even_once_verified():
    pem, jwks = _key_and_jwks()
    accounts = identity.AccountStates()

    async def fetch():
        return jwks
    verifier = identity.TokenVerifier(fetch, accounts)
    token = _token(pem)
    assert (await verifier.verify(token)).role == "client"
    accounts.heard("u1", "client", True)  # a profile change: the token still serves
    assert (await verifier.verify(token)).role == "client"
    accounts.heard("u1", "manager", True)
    with pytest.raises(errors.Unauthenticated, match="role is now manager"):
        await verifier.verify(token)
    assert (await verifier.verify(_token(pem, role="manager"))).role == "manager"
    accounts.heard("u1", "manager", False)
    with pytest.raises(errors.Unauthenticated, match="deactivated"):
        await verifier.verify(_token(pem, role="manager"))
    assert (await verifier.verify(_token(pem, sub="u2"))).user_id == "u2"


async def test_verifier_rejects_other_keys_and_garbage():
    pem, jwks = _key_and_jwks()
    other_pem, _ = _key_and_jwks()
    with pytest.raises(errors.Unauthenticated):
        await _verifier(jwks).verify(_token(other_pem))
    with pytest.raises(errors.Unauthenticated, match="unknown key"):
        await _verifier(jwks).verify(_token(pem, kid="k9"))
    with pytest.raises(errors.Unauthenticated, match="malformed"):
        await _verifier(jwks).verify("not-a-token")


def test_page_size_defaults_and_ceiling():
    assert paging.page_size(0) == paging.DEFAULT_PAGE_SIZE
    assert paging.page_size(10_000) == paging.MAX_PAGE_SIZE
    with pytest.raises(errors.InvalidArgument):
        paging.page_size(-1)


def test_page_token_round_trip_and_binding_to_its_query():
    token = paging.encode_token(["2026-01-01T00:00:00+00:00", "abc"], {"role": "client"})
    assert paging.decode_token(token, {"role": "client"}) == ["2026-01-01T00:00:00+00:00", "abc"]
    assert paging.decode_token("", {"role": "client"}) is None
    with pytest.raises(errors.InvalidArgument, match="invalid request"):
        paging.decode_token(token, {"role": "admin"})
    with pytest.raises(errors.InvalidArgument):
        paging.decode_token("%%%garbage", {"role": "client"})


async def test_a_failing_background_task_is_restarted(monkeypatch):
    real_sleep = asyncio.sleep
    monkeypatch.setattr(server.asyncio, "sleep", lambda seconds: real_sleep(0))
    runs = []

    async def flaky():
        runs.append(1)
        if len(runs) < 3:
            raise RuntimeError("the bus went away")

    await asyncio.wait_for(server._supervised(flaky), timeout=5)
    assert len(runs) == 3


def test_trim_names_are_parsed_or_refused_on_the_named_field():
    model_id, trim_id = uuid.uuid4(), uuid.uuid4()
    assert catalog.trim_ids(f"models/{model_id}/trims/{trim_id}", "trim") == (model_id, trim_id)
    for bad in ("", f"models/{model_id}", f"models/{model_id}/options/{trim_id}", f"models/x/trims/{trim_id}",
                f"models/{model_id}/trims/{trim_id}/more"):
        with pytest.raises(errors.InvalidArgument) as refused:
            catalog.trim_ids(bad, "vehicle.trim")
        assert refused.value.violations[0][0] == "vehicle.trim"


async def test_a_reading_unit_of_work_cannot_emit_events():
    reading = db.UnitOfWork(database=None, read_only=True)
    with pytest.raises(RuntimeError, match="cannot emit"):
        await reading.emit("thing.happened", "things/1", status_pb2.Status())


def test_a_reference_is_a_resource_name_or_a_bare_uuid():
    order_id = uuid.uuid4()
    for written in (f"orders/{order_id}", f" {order_id} "):
        assert protos.referenced_id(written, "orders", "order_id") == order_id
    for bad in ("", "orders/x", f"vehicles/{order_id}"):
        with pytest.raises(errors.InvalidArgument) as refused:
            protos.referenced_id(bad, "orders", "order_id")
        assert refused.value.violations[0][0] == "order_id"


def test_users_me_names_the_callers_own_account_wherever_a_customer_is_taken():
    client = identity.Identity(str(uuid.uuid4()), identity.CLIENT, "c@example.ru", "t")
    manager = identity.Identity(str(uuid.uuid4()), identity.MANAGER, "m@example.ru", "t")
    assert protos.account_named(client, "users/me") == client.user_name
    assert protos.account_named(client, "users/other") == "users/other"
    assert protos.acting_for(client, "users/me", "customer", staff_must_name=False) == client.user_name
    assert protos.acting_for(manager, "users/me", "customer", staff_must_name=False) == manager.user_name
    with pytest.raises(errors.InvalidArgument) as staff_for_nobody:
        protos.acting_for(manager, "users/me", "customer", staff_must_name=True)
    assert staff_for_nobody.value.violations[0].field == "customer"
    with pytest.raises(errors.PermissionDenied) as another:
        protos.acting_for(client, f"users/{uuid.uuid4()}", "customer", staff_must_name=False)
    assert another.value.reason == errors.NOT_YOUR_CUSTOMER


def test_a_page_of_newest_first_rows_and_the_token_after_it():
    rows = [SimpleNamespace(created_at=datetime(2026, 11, day, tzinfo=timezone.utc), id=uuid.uuid4())
            for day in (25, 24, 23)]
    assert paging.newest_page(rows[:2], 2, {}) == (rows[:2], "")
    page, token = paging.newest_page(rows, 2, {"q": 1})
    assert page == rows[:2]
    assert paging.time_position(paging.decode_token(token, {"q": 1})) == (rows[1].created_at, rows[1].id)


def test_a_sequence_position_is_an_integer_or_the_token_is_refused():
    assert paging.sequence_position(None) is None
    assert paging.sequence_position([42]) == 42
    for bad in ([], ["42"], [None], [True], [4.2]):
        with pytest.raises(errors.InvalidArgument) as refused:
            paging.sequence_position(bad)
        assert refused.value.violations[0][0] == "page_token"


def test_amounts_are_exact_kopecks_within_the_columns_range():
    assert money.parse_amount(" 1250000.5 ", "price") == Decimal("1250000.50")
    assert str(money.parse_amount("-0", "price")) == "0.00"
    assert money.parse_amount("1.100", "price") == Decimal("1.10")
    assert money.parse_amount(str(money.MAX_AMOUNT), "price") == money.MAX_AMOUNT
    for bad in ("", "abc", "1,5", "NaN", "Infinity", "1e400", "1e1000000", "-1e400", "1E+2", "+5",
                "1_000", "\u0663", "1.001", "1000000000000", "1" * 5000):
        with pytest.raises(errors.InvalidArgument) as refused:
            money.parse_amount(bad, "price")
        assert refused.value.violations[0][0] == "price", bad


def test_text_a_database_cannot_store_is_found_with_its_path():
    quote = pricing_pb2.CreateQuoteRequest(
        trim="models/a\0", options=[pricing_pb2.Option(name="mats"), pricing_pb2.Option(name="tow\0bar")])
    assert protos.nul_characters(quote) == ["trim", "options[1].name"]
    assert protos.nul_characters(pricing_pb2.CreateQuoteRequest(trim="models/a", promo_code="SPRING")) == []
    specs = struct_pb2.Struct()
    specs.update({"colour\0": "red", "seats": {"rear": "bench\0"}})
    assert sorted(protos.nul_characters(specs)) == [
        "fields['colour\\x00']", "fields['seats'].struct_value.fields['rear'].string_value"]


async def test_a_token_issued_before_its_account_lost_access_stays_refused_after_it_is_back():
    """Deactivated then reactivated, or demoted then promoted again: a token from before the
    change is refused; one issued after it serves."""
    pem, jwks = _key_and_jwks()
    accounts = identity.AccountStates()

    async def fetch():
        return jwks
    verifier = identity.TokenVerifier(fetch, accounts)
    now = int(time.time())
    before = _token(pem, iat=now - 60)
    assert (await verifier.verify(before)).role == "client"
    accounts.heard("u1", "client", False, revoked_at=now - 30)
    accounts.heard("u1", "client", True)  # reactivated: this event revokes nothing more
    with pytest.raises(errors.Unauthenticated, match="access changed after the token was issued"):
        await verifier.verify(before)
    assert (await verifier.verify(_token(pem, iat=now - 10))).user_id == "u1"
    accounts.heard("u1", "client", True, revoked_at=now - 50)  # an older revocation moves nothing back
    with pytest.raises(errors.Unauthenticated, match="access changed"):
        await verifier.verify(_token(pem, iat=now - 40))
    # Within one second, the milliseconds decide.
    accounts.heard("u1", "client", True, revoked_at=now - 5.5)
    with pytest.raises(errors.Unauthenticated, match="access changed"):
        await verifier.verify(_token(pem, iat=now - 5.7))
    assert (await verifier.verify(_token(pem, iat=now - 5.3))).user_id == "u1"
