import contextlib
import os
import uuid

import grpc
import httpx
import pytest
from google.rpc import error_details_pb2
from grpc_status import rpc_status


EDGE = f"127.0.0.1:{os.environ.get('AUTOSALON_EDGE_PORT', '8080')}"
STRONG_PASSWORD = "Correct-Horse-42"


@pytest.fixture(scope="session")
def edge(mesh):
    with httpx.Client(base_url=f"http://{EDGE}", timeout=15) as client:
        yield client


@pytest.fixture(scope="session")
async def edge_channel(mesh):
    channel = grpc.aio.insecure_channel(EDGE)
    yield channel
    await channel.close()


def new_email(prefix: str = "buyer") -> str:
    return f"{prefix}.{uuid.uuid4().hex[:10]}@example.ru"


def register(edge: httpx.Client, email: str | None = None, password: str = STRONG_PASSWORD,
             phone: str = "+79161234567") -> dict:
    email = email or new_email()
    response = edge.post(
        "/auth/register",
        json={"email": email, "password": password, "confirm_password": password,
              "full_name": "Ivan Petrov", "phone": phone},
    )
    assert response.status_code == 200, response.text
    return response.json()


def login(edge: httpx.Client, email: str, password: str) -> dict:
    response = edge.post("/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return response.json()


def listed(edge: httpx.Client, path: str, field: str, headers: dict) -> list:
    """The items of a list answer, which must be a 200 (an error answer has no items either)."""
    answer = edge.get(path, headers=headers)
    assert answer.status_code == 200, answer.text
    return answer.json().get(field, [])


@contextlib.contextmanager
def within_deadline(edge: httpx.Client, seconds: float = 5.0):
    """The edge's calls give up after `seconds`, as a caller with a deadline does: an answer
    that is refused "at once, not a hang" must come before it, or the call fails with
    httpx.TimeoutException. Far above any answer expected; no time is measured."""
    kept = edge.timeout
    edge.timeout = httpx.Timeout(seconds)
    try:
        yield
    finally:
        edge.timeout = kept


def grpc_detail(error: grpc.RpcError, kind: type):
    """The detail of type `kind` (google.rpc.BadRequest, ErrorInfo) of a native gRPC refusal."""
    status = rpc_status.from_call(error)
    assert status is not None, error
    found = [detail for detail in status.details if detail.Is(kind.DESCRIPTOR)]
    assert len(found) == 1, status.details
    detail = kind()
    found[0].Unpack(detail)
    return detail


def grpc_fields(error: grpc.aio.AioRpcError) -> set[str]:
    """The fields a native gRPC refusal names, in its google.rpc.BadRequest detail."""
    return {violation.field for violation in grpc_detail(error, error_details_pb2.BadRequest).field_violations}


def grpc_reason(error: grpc.RpcError) -> str:
    """The reason of a native gRPC refusal, in its google.rpc.ErrorInfo of the platform's domain."""
    info = grpc_detail(error, error_details_pb2.ErrorInfo)
    assert info.domain == "autosalon", info
    return info.reason


def json_detail(response: httpx.Response, kind: str) -> dict:
    """The detail of google.rpc type `kind` ("BadRequest", "ErrorInfo") of a REST refusal."""
    found = [detail for detail in response.json().get("details", [])
             if detail["@type"] == f"type.googleapis.com/google.rpc.{kind}"]
    assert len(found) == 1, response.text
    return found[0]


def json_reason(response: httpx.Response) -> str:
    """The reason of a REST refusal, in its google.rpc.ErrorInfo of the platform's domain."""
    info = json_detail(response, "ErrorInfo")
    assert info["domain"] == "autosalon", response.text
    return info["reason"]


def bearer(tokens: dict) -> dict:
    return {"authorization": f"Bearer {tokens['access_token']}"}


@pytest.fixture
def client_session(edge) -> dict:
    """A freshly registered client, signed in."""
    user = register(edge)
    return {"user": user, **login(edge, user["email"], STRONG_PASSWORD)}


@pytest.fixture(scope="session")
def admin_session(edge, mesh) -> dict:
    email, password = mesh.admin_email, mesh.admin_password
    return login(edge, email, password)


@pytest.fixture(scope="session")
def manager_session(edge, admin_session) -> dict:
    """A user promoted to manager by the admin, signed in."""
    user = register(edge, new_email("manager"))
    promoted = edge.patch(f"/auth/{user['name']}", params={"update_mask": "role"},
                          json={"role": "ROLE_MANAGER"}, headers=bearer(admin_session))
    assert promoted.status_code == 200, promoted.text
    return login(edge, user["email"], STRONG_PASSWORD)
