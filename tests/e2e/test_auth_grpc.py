"""auth end to end through the Envoy edge over native gRPC."""
import asyncio
import uuid

import grpc
import nats
import pytest
from google.protobuf import field_mask_pb2

from autosalon.auth.v1 import auth_pb2, auth_pb2_grpc
from autosalon.common.v1 import common_pb2
from services.kit.subjects import stream_name

from .conftest import STRONG_PASSWORD, grpc_fields, new_email

pytestmark = pytest.mark.asyncio


def _authorized(token: str) -> list[tuple[str, str]]:
    return [("authorization", f"Bearer {token}")]


async def _register_and_login(stub) -> tuple[auth_pb2.User, auth_pb2.TokenPair]:
    email = new_email("grpc")
    user = await stub.Register(auth_pb2.RegisterRequest(
        email=email, password=STRONG_PASSWORD, confirm_password=STRONG_PASSWORD,
        full_name="Olga Ivanova"))
    tokens = await stub.Login(auth_pb2.LoginRequest(email=email, password=STRONG_PASSWORD))
    return user, tokens


async def test_register_login_me_refresh_over_grpc(edge_channel):
    stub = auth_pb2_grpc.AuthServiceStub(edge_channel)
    user, tokens = await _register_and_login(stub)
    me = await stub.GetCurrentUser(auth_pb2.GetCurrentUserRequest(),
                                   metadata=_authorized(tokens.access_token))
    assert me.name == user.name and me.role == auth_pb2.ROLE_CLIENT
    rotated = await stub.RefreshToken(auth_pb2.RefreshTokenRequest(refresh_token=tokens.refresh_token))
    with pytest.raises(grpc.aio.AioRpcError) as replay:
        await stub.RefreshToken(auth_pb2.RefreshTokenRequest(refresh_token=tokens.refresh_token))
    assert replay.value.code() == grpc.StatusCode.UNAUTHENTICATED
    with pytest.raises(grpc.aio.AioRpcError) as family:
        await stub.RefreshToken(auth_pb2.RefreshTokenRequest(refresh_token=rotated.refresh_token))
    assert family.value.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_field_violations_travel_as_bad_request_details(edge_channel):
    stub = auth_pb2_grpc.AuthServiceStub(edge_channel)
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await stub.Register(auth_pb2.RegisterRequest(
            email="bad", password="x", confirm_password="y", full_name="Z"))
    assert error.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert {"email", "password", "confirm_password"} <= grpc_fields(error.value)


async def test_no_token_and_bad_token_over_grpc(edge_channel):
    stub = auth_pb2_grpc.AuthServiceStub(edge_channel)
    with pytest.raises(grpc.aio.AioRpcError) as missing:
        await stub.GetCurrentUser(auth_pb2.GetCurrentUserRequest())
    assert missing.value.code() == grpc.StatusCode.UNAUTHENTICATED
    # The edge's refusal reads as text to a gRPC client; only REST callers get it as JSON.
    assert missing.value.details() == "no access token was sent: sign in"
    with pytest.raises(grpc.aio.AioRpcError) as bad:
        await stub.GetCurrentUser(auth_pb2.GetCurrentUserRequest(), metadata=_authorized("x.y.z"))
    assert bad.value.code() == grpc.StatusCode.UNAUTHENTICATED


async def test_client_cannot_list_or_promote_over_grpc(edge_channel):
    stub = auth_pb2_grpc.AuthServiceStub(edge_channel)
    user, tokens = await _register_and_login(stub)
    with pytest.raises(grpc.aio.AioRpcError) as listing:
        await stub.ListUsers(auth_pb2.ListUsersRequest(), metadata=_authorized(tokens.access_token))
    assert listing.value.code() == grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(grpc.aio.AioRpcError) as promote:
        await stub.UpdateUser(
            auth_pb2.UpdateUserRequest(
                user=auth_pb2.User(name=user.name, role=auth_pb2.ROLE_ADMIN),
                update_mask=field_mask_pb2.FieldMask(paths=["role"])),
            metadata=_authorized(tokens.access_token))
    assert promote.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_duplicate_over_grpc_is_already_exists(edge_channel):
    stub = auth_pb2_grpc.AuthServiceStub(edge_channel)
    email = new_email("twice")
    request = auth_pb2.RegisterRequest(email=email, password=STRONG_PASSWORD,
                                       confirm_password=STRONG_PASSWORD, full_name="Twice")
    await stub.Register(request)
    request.email = email.upper()
    with pytest.raises(grpc.aio.AioRpcError) as error:
        await stub.Register(request)
    assert error.value.code() == grpc.StatusCode.ALREADY_EXISTS


async def test_registration_is_published_with_the_edge_trace_id(edge_channel, mesh):
    """The outbox relay sends autosalon.auth.user.registered, carrying Envoy's request id."""
    stub = auth_pb2_grpc.AuthServiceStub(edge_channel)
    trace_id = f"e2e-{uuid.uuid4().hex}"
    user = await stub.Register(
        auth_pb2.RegisterRequest(email=new_email("evt"), password=STRONG_PASSWORD,
                                 confirm_password=STRONG_PASSWORD, full_name="Event Person"),
        metadata=[("x-request-id", trace_id)])
    nats_user, nats_password = mesh.nats_login
    connection = await nats.connect(mesh.nats_url, user=nats_user, password=nats_password)
    try:
        stream = connection.jetstream()
        for _ in range(50):
            message = await stream.get_last_msg(stream_name("auth"), "autosalon.auth.user.registered")
            envelope = common_pb2.EventEnvelope.FromString(message.data)
            if envelope.subject == user.name:
                break
            await asyncio.sleep(0.1)
        assert envelope.subject == user.name
        assert envelope.trace_id == trace_id
        assert envelope.source == "auth" and envelope.type == "autosalon.auth.user.registered"
        assert message.headers["Nats-Msg-Id"] == envelope.id
        payload = auth_pb2.UserEvent()
        assert envelope.data.Unpack(payload) and payload.user.email == user.email
    finally:
        await connection.close()
