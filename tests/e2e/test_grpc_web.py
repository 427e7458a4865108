"""gRPC-web through the edge, as a browser sends it (raw calls over HTTP/1.1): each message a
frame (a flag byte, its length in 4 bytes, the message), the status in a last frame flagged
0x80, or in the headers of an answer without a body. The edge's own checks hold for it: JWTs,
CORS for a web front end's origin, and no answer from the cache."""
import struct

import pytest

from autosalon.auth.v1 import auth_pb2
from autosalon.catalog.v1 import catalog_pb2
from autosalon.sales.v1 import sales_pb2

from ..conftest import TEST_WEB_ORIGIN
from .conftest import STRONG_PASSWORD, new_email

GRPC_WEB = {"content-type": "application/grpc-web+proto", "x-grpc-web": "1", "x-user-agent": "grpc-web-test"}
TRAILERS = 0x80


def _frame(message) -> bytes:
    payload = message.SerializeToString()
    return struct.pack(">BI", 0, len(payload)) + payload


def _frames(body: bytes) -> list[tuple[int, bytes]]:
    frames = []
    while body:
        flag, length = struct.unpack(">BI", body[:5])
        frames.append((flag, body[5:5 + length]))
        body = body[5 + length:]
    return frames


def call(edge, method: str, request, reply_type=None, headers: dict | None = None):
    """The call's answer: (grpc-status, grpc-message, the message or None, the HTTP answer)."""
    answer = edge.post(f"/{method}", content=_frame(request), headers={**GRPC_WEB, **(headers or {})})
    assert answer.headers["content-type"].startswith("application/grpc-web"), answer.text
    status = {key: answer.headers.get(key) for key in ("grpc-status", "grpc-message")}
    message = None
    for flag, payload in _frames(answer.content):
        if flag & TRAILERS:
            for line in payload.decode().strip().split("\r\n"):
                key, _, value = line.partition(":")
                status[key.strip().lower()] = value.strip()
        else:
            message = reply_type.FromString(payload)
    return status["grpc-status"], status["grpc-message"], message, answer


def test_a_public_call_answers_its_message_and_status_in_frames(edge):
    request = catalog_pb2.ListModelsRequest(page_size=3)
    for _ in range(2):
        code, _, reply, answer = call(edge, "autosalon.catalog.v1.CatalogService/ListModels", request,
                                      catalog_pb2.ListModelsResponse)
        assert answer.status_code == 200 and code == "0"
        assert 0 < len(reply.models) <= 3 and reply.total_size >= len(reply.models)
        # A gRPC route's answers are never the cache's, however often asked.
        assert "age" not in answer.headers
    rest = edge.get("/catalog/models", params={"page_size": 3}).json()
    assert [model.name for model in reply.models] == [model["name"] for model in rest["models"]]


def test_a_signed_in_customer_calls_with_a_token(edge):
    email = new_email("grpcweb")
    code, _, user, _ = call(edge, "autosalon.auth.v1.AuthService/Register", auth_pb2.RegisterRequest(
        email=email, password=STRONG_PASSWORD, confirm_password=STRONG_PASSWORD, full_name="Ivan Petrov"),
        auth_pb2.User)
    assert code == "0" and user.email == email
    code, _, tokens, _ = call(edge, "autosalon.auth.v1.AuthService/Login",
                              auth_pb2.LoginRequest(email=email, password=STRONG_PASSWORD), auth_pb2.TokenPair)
    assert code == "0"
    code, _, me, _ = call(edge, "autosalon.auth.v1.AuthService/GetCurrentUser", auth_pb2.GetCurrentUserRequest(),
                          auth_pb2.User, headers={"authorization": f"Bearer {tokens.access_token}"})
    assert code == "0" and me.name == user.name


@pytest.mark.parametrize("token", [None, "not-a-jwt"])
def test_a_call_without_a_valid_token_is_unauthenticated(edge, token):
    """The edge's refusal: 401, its status in the headers (a grpc-web client reads either)."""
    headers = {"authorization": f"Bearer {token}"} if token else {}
    code, message, reply, answer = call(edge, "autosalon.sales.v1.SalesService/ListOrders",
                                        sales_pb2.ListOrdersRequest(), sales_pb2.ListOrdersResponse, headers)
    assert answer.status_code == 401
    assert code == "16", message
    assert reply is None


def test_a_web_front_end_may_send_grpc_web_and_read_the_status(edge):
    sent = "authorization, content-type, x-grpc-web, x-user-agent, grpc-timeout"
    preflight = edge.options("/autosalon.catalog.v1.CatalogService/ListModels", headers={
        "origin": TEST_WEB_ORIGIN, "access-control-request-method": "POST", "access-control-request-headers": sent})
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == TEST_WEB_ORIGIN
    assert "POST" in preflight.headers["access-control-allow-methods"]
    allowed = {name.strip() for name in preflight.headers["access-control-allow-headers"].split(",")}
    assert {name.strip() for name in sent.split(",")} <= allowed

    code, _, _, answer = call(edge, "autosalon.sales.v1.SalesService/ListOrders", sales_pb2.ListOrdersRequest(),
                              sales_pb2.ListOrdersResponse, {"origin": TEST_WEB_ORIGIN})
    assert code == "16"
    assert answer.headers["access-control-allow-origin"] == TEST_WEB_ORIGIN
    exposed = {name.strip() for name in answer.headers["access-control-expose-headers"].split(",")}
    assert {"grpc-status", "grpc-message", "grpc-status-details-bin"} <= exposed


def test_another_origin_is_not_allowed(edge):
    preflight = edge.options("/autosalon.catalog.v1.CatalogService/ListModels", headers={
        "origin": "https://elsewhere.example", "access-control-request-method": "POST",
        "access-control-request-headers": "x-grpc-web"})
    assert "access-control-allow-origin" not in preflight.headers


def test_a_method_no_service_has_is_unimplemented(edge):
    code, _, _, _ = call(edge, "opentelemetry.proto.collector.logs.v1.LogsService/Export",
                         catalog_pb2.ListModelsRequest())
    assert code == "12"
