"""The mesh as an operator sees it: Consul health, reflection, instances, failure and recovery.

Tests marked `disruptive` stop processes and the one marked `spends_login_budget` empties the
login budget; the session runs them after every other test (tests/conftest.py).
"""
import dataclasses
import json
import subprocess
import time
import urllib.request
import uuid

import grpc
import httpx
import psycopg
import pytest

from autosalon.auth.v1 import auth_pb2, auth_pb2_grpc
from scripts.mesh import supervisor
from scripts.mesh.layout import LOGS, PG_SOCKET_DIR, RUN, SERVICES, VENV_BIN, instances
from services.edge.access_log import Rotation, rotate_if_due
from services.kit.settings import load

from ..conftest import TEST_WEB_ORIGIN
from .conftest import EDGE, bearer, json_detail, json_reason


def _consul(path: str):
    """Consul's answer to the operator (its ACLs refuse an anonymous read)."""
    request = urllib.request.Request(f"http://127.0.0.1:8500{path}",
                                     headers={"X-Consul-Token": load().consul_acl_token})
    with urllib.request.urlopen(request, timeout=5) as response:
        return json.loads(response.read())


def _wait_for(check, timeout=30.0, interval=0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(interval)
    return False


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_every_service_passes_in_consul(mesh, service):
    entries = _consul(f"/v1/health/service/{service}?passing=true")
    assert len(entries) == instances(service)
    for entry in entries:
        assert all(check["Status"] == "passing" for check in entry["Checks"])


def test_services_talk_to_postgres_over_its_unix_socket(mesh):
    """Their connections have no client port (-1: a Unix socket), whatever tests connect by TCP;
    all of them use TCP only when the socket's path would be too long for the kernel."""
    with psycopg.connect(mesh.database_url("postgres", driver="postgresql")) as connection:
        by_socket = {name for (name,) in connection.execute(
            "SELECT DISTINCT datname FROM pg_stat_activity"
            " WHERE backend_type = 'client backend' AND client_port = -1")}
    if PG_SOCKET_DIR:
        assert set(SERVICES) <= by_socket
    else:
        assert not by_socket & set(SERVICES)


@pytest.mark.parametrize("service, full_name, method", [
    ("auth", "autosalon.auth.v1.AuthService", "rpc Login"),
    ("catalog", "autosalon.catalog.v1.CatalogService", "rpc ListModels"),
    ("inventory", "autosalon.inventory.v1.InventoryService", "rpc ReserveVehicle"),
    ("customer", "autosalon.customer.v1.CustomerService", "rpc CreateInteraction"),
    ("pricing", "autosalon.pricing.v1.PricingService", "rpc RedeemPromoCode"),
    ("sales", "autosalon.sales.v1.SalesService", "rpc ConfirmOrder"),
    ("payment", "autosalon.payment.v1.PaymentService", "rpc CreatePayment"),
])
def test_grpcurl_lists_each_service_via_reflection(mesh, service, full_name, method):
    entry = _consul(f"/v1/health/service/{service}?passing=true")[0]["Service"]
    target = f"{entry['Address']}:{entry['Port']}"
    listed = subprocess.run([VENV_BIN / "grpcurl", "-plaintext", target, "list"],
                            capture_output=True, text=True, timeout=30, check=True)
    assert full_name in listed.stdout.split()
    assert "grpc.health.v1.Health" in listed.stdout.split()
    described = subprocess.run(
        [VENV_BIN / "grpcurl", "-plaintext", target, "describe", full_name],
        capture_output=True, text=True, timeout=30, check=True)
    assert method in described.stdout


def test_grpcurl_calls_through_the_edge_with_protos(mesh):
    result = subprocess.run(
        [VENV_BIN / "grpcurl", "-plaintext", "-import-path", "proto", "-import-path",
         "gen/third_party", "-proto", "autosalon/auth/v1/auth.proto", "-d", "{}", EDGE,
         "autosalon.auth.v1.AuthService/GetJwks"],
        capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert '"kty": "EC"' in result.stdout


def test_both_auth_instances_receive_traffic(edge):
    """Envoy's access log names the upstream instance of every request it served."""
    access_log = LOGS / "edge-access.log"
    start = access_log.stat().st_size
    for _ in range(40):
        assert edge.get("/auth/jwks.json", headers={"x-request-id": "spread-check"}).status_code == 200

    def upstreams() -> set[str]:
        with open(access_log, encoding="utf-8") as handle:
            handle.seek(start)
            entries = [json.loads(line) for line in handle if line.startswith("{")]
        return {entry["upstream"] for entry in entries if entry["trace_id"] == "spread-check"}

    # The access log is flushed on Envoy's own schedule.
    assert _wait_for(lambda: len(upstreams()) == instances("auth") >= 2, timeout=15)


async def test_rotated_access_log_keeps_every_line(edge):
    """Renamed past its size, the log keeps the requests before; Envoy, told to reopen the
    path, writes the requests after to a fresh file. A log within its size is left alone."""
    rotation = Rotation.load(RUN / "envoy" / "access_log.json")
    marker = f"rotation-{uuid.uuid4().hex}"

    def logged(path, suffix: str) -> bool:
        return path.exists() and f'"{marker}-{suffix}"' in path.read_text(encoding="utf-8")

    edge.get("/health", headers={"x-request-id": f"{marker}-before"})
    # Envoy flushes its access log on its own schedule (about once a second).
    assert _wait_for(lambda: logged(rotation.path, "before"), timeout=15)
    async with httpx.AsyncClient(timeout=5) as client:
        assert not await rotate_if_due(dataclasses.replace(rotation, max_bytes=10**12), client)
        assert logged(rotation.path, "before")
        assert await rotate_if_due(dataclasses.replace(rotation, max_bytes=0), client)
    edge.get("/health", headers={"x-request-id": f"{marker}-after"})
    assert _wait_for(lambda: logged(rotation.path, "after"), timeout=15)
    assert logged(rotation.backup(1), "before")
    assert not logged(rotation.path, "before") and not logged(rotation.backup(1), "after")


def test_the_access_log_has_each_call_as_the_client_made_it(edge):
    """The transcoder turns REST calls into gRPC POSTs; the log keeps the client's method and path."""
    marker = f"as-made-{uuid.uuid4()}"
    model = f"/catalog/models/{uuid.uuid4()}"
    edge.delete(model, headers={"x-request-id": marker})
    log = LOGS / "edge-access.log"

    def line() -> dict | None:
        found = [json.loads(text) for text in log.read_text(encoding="utf-8").splitlines() if marker in text]
        return found[0] if found else None

    assert _wait_for(lambda: line() is not None, timeout=15)
    logged = line()
    assert (logged["method"], logged["path"], logged["status"]) == ("DELETE", model, 401)
    assert logged["grpc_path"] == "/autosalon.catalog.v1.CatalogService/DeleteModel"


def test_only_native_grpc_lines_carry_a_grpc_status(edge):
    """A REST answer's gRPC status would be Envoy's guess from the HTTP code (a 400 reading as
    INTERNAL): REST lines have the HTTP status alone, gRPC lines the service's own code; each
    call is logged once."""
    marker = f"grpc-status-{uuid.uuid4()}"
    edge.post("/auth/register", json={"email": "not-an-email"}, headers={"x-request-id": f"{marker}-rest"})
    with grpc.insecure_channel(EDGE) as channel:
        with pytest.raises(grpc.RpcError) as refused:
            auth_pb2_grpc.AuthServiceStub(channel).Register(
                auth_pb2.RegisterRequest(email="not-an-email"), metadata=[("x-request-id", f"{marker}-grpc")])
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    log = LOGS / "edge-access.log"

    def lines(suffix: str) -> list[dict]:
        return [json.loads(text) for text in log.read_text(encoding="utf-8").splitlines()
                if f"{marker}-{suffix}" in text]

    assert _wait_for(lambda: lines("rest") and lines("grpc"), timeout=15)
    [rest], [native] = lines("rest"), lines("grpc")
    assert rest["status"] == 400 and "grpc_status" not in rest
    assert native["grpc_status"] == "INVALID_ARGUMENT" and native["protocol"] == "HTTP/2"


def test_rest_answers_carry_no_grpc_headers(edge, client_session):
    """The status of a REST answer is its HTTP code and JSON body; gRPC's headers stay inside."""
    answers = [
        edge.get("/auth/me", headers=bearer(client_session)),
        edge.get("/catalog/models", params={"page_size": 1}),
        edge.get(f"/catalog/models/{uuid.uuid4()}"),
        edge.post("/auth/register", json={"email": "not-an-email"}),
    ]
    assert [answer.status_code for answer in answers] == [200, 200, 404, 400]
    for answer in answers:
        assert not [name for name in answer.headers if name.startswith("grpc-")], answer.headers


def test_a_web_front_end_on_an_allowed_origin_may_call_the_api(edge, client_session):
    origin = {"origin": TEST_WEB_ORIGIN}
    for path in ("/catalog/models", "/auth/me"):  # public, and one that needs a token
        preflight = edge.options(path, headers={**origin, "access-control-request-method": "GET",
                                                "access-control-request-headers": "authorization"})
        assert preflight.status_code == 204, preflight.text
        assert preflight.headers["access-control-allow-origin"] == TEST_WEB_ORIGIN
        assert "authorization" in preflight.headers["access-control-allow-headers"]
    answer = edge.get("/auth/me", headers={**origin, **bearer(client_session)})
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == TEST_WEB_ORIGIN
    assert "x-request-id" in answer.headers["access-control-expose-headers"]


def test_another_origin_gets_no_permission(edge):
    # The test mesh allows local dev servers (AUTOSALON_EDGE_CORS_LOCALHOST): none of these is one.
    for origin in ("https://evil.example", "http://localhost.evil.example", "http://localhost:5173.evil.example",
                   "https://localhost:5173", "http://127.0.0.2:5173"):
        stranger = {"origin": origin}
        preflight = edge.options("/auth/me", headers={**stranger, "access-control-request-method": "GET"})
        assert preflight.status_code == 204 and "access-control-allow-origin" not in preflight.headers, origin
        assert "access-control-allow-origin" not in edge.get("/catalog/models", headers=stranger).headers, origin


@pytest.mark.parametrize("origin", ["http://localhost:5173", "http://127.0.0.1:3000", "http://localhost"])
def test_a_front_ends_dev_server_on_localhost_may_call_the_api_when_allowed(edge, client_session, origin):
    preflight = edge.options("/auth/me", headers={
        "origin": origin, "access-control-request-method": "GET",
        "access-control-request-headers": "authorization, content-type, idempotency-key"})
    assert preflight.status_code == 204 and preflight.headers["access-control-allow-origin"] == origin
    assert "idempotency-key" in preflight.headers["access-control-allow-headers"]
    answer = edge.get("/auth/me", headers={"origin": origin, **bearer(client_session)})
    assert answer.status_code == 200 and answer.headers["access-control-allow-origin"] == origin
    assert "x-request-id" in answer.headers["access-control-expose-headers"]


@pytest.mark.parametrize("method, path, body, named", [
    ("POST", "/pricing/quotes", '{"trim": ', ""),
    ("POST", "/pricing/quotes", '{"trim": 5}', "trim"),
    ("GET", "/catalog/models?page_size=abc", None, "page_size"),
    ("GET", "/catalog/models?body_type=BODY_TYPE_NOPE", None, "body_type"),
    ("GET", "/catalog/models?bogus=1", None, "bogus"),
], ids=["malformed-json", "wrong-json-type", "not-a-number", "unknown-enum", "unknown-parameter"])
def test_what_the_edge_cannot_read_is_a_json_400(edge, method, path, body, named):
    """The transcoder refuses these before any service sees them; its answer is JSON too."""
    response = edge.request(method, path, content=body, headers={"content-type": "application/json"})
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/json"
    error = response.json()
    assert error["code"] == 3  # INVALID_ARGUMENT
    assert named in error["message"]


@pytest.mark.disruptive
def test_auth_down_gives_503_json_then_recovers(edge):
    supervisor.ctl("stop", "auth:*")
    try:
        assert _wait_for(lambda: edge.get("/auth/jwks.json").status_code == 503)
        response = edge.get("/auth/jwks.json")
        assert response.headers["content-type"].startswith("application/json")
        assert response.json()["code"] == 14  # UNAVAILABLE
    finally:
        supervisor.ctl("start", "auth:*")
    assert _wait_for(lambda: edge.get("/auth/jwks.json").status_code == 200, timeout=60)


@pytest.mark.spends_login_budget
def test_burst_past_the_strict_limit_is_refused_with_429_json(edge):
    """Register (as login) has a per-address budget against password guessing: one bucket,
    whatever the spelling of its path (a trailing slash, doubled slashes) or the protocol
    (native gRPC through the edge). A burst past it, the spellings taking turns, is refused on
    every one of them, and no more than the budget (twice, were it refilled meanwhile) is
    served. The address is the connection's: a made-up X-Forwarded-For buys no fresh budget.
    A refusal says RATE_LIMITED and, in Retry-After, when the bucket refills. Login keeps a
    bucket of its own."""
    strict = json.loads((RUN / "envoy" / "limits.json").read_text())["strict"]
    limit = strict["requests"]
    spellings = ["/auth/register", "/auth/register/", "/auth//register", "grpc"]
    outcomes = {spelling: [] for spelling in spellings}
    with httpx.Client(base_url=f"http://{EDGE}", timeout=15) as client, grpc.insecure_channel(EDGE) as channel:
        stub = auth_pb2_grpc.AuthServiceStub(channel)
        for n in range(2 * limit + 40):
            spelling = spellings[n % len(spellings)]
            if spelling == "grpc":
                try:
                    stub.Register(auth_pb2.RegisterRequest(), timeout=15)
                    outcomes[spelling].append("served")
                except grpc.RpcError as error:
                    refused = error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
                    outcomes[spelling].append("refused" if refused else "served")
                    if refused:
                        # A refusal without a body comes as trailers only.
                        grpc_refusal = dict(error.trailing_metadata() or ())
            else:
                response = client.post(spelling, json={}, headers={"x-forwarded-for": f"198.51.100.{n % 250}"})
                assert response.status_code in (400, 429), response.text
                outcomes[spelling].append("refused" if response.status_code == 429 else "served")
                if response.status_code == 429:
                    limited = response
        assert all("refused" in seen for seen in outcomes.values()), outcomes
        assert sum(seen.count("served") for seen in outcomes.values()) <= 2 * limit
        assert limited.headers["content-type"].startswith("application/json")
        assert limited.json()["code"] == 8  # RESOURCE_EXHAUSTED
        assert limited.json()["message"] == "local_rate_limited"
        assert limited.headers["retry-after"] == str(strict["per_seconds"])
        assert json_reason(limited) == "RATE_LIMITED"
        assert json_detail(limited, "ErrorInfo")["metadata"] == {"retry_after_seconds": str(strict["per_seconds"])}
        assert grpc_refusal["retry-after"] == str(strict["per_seconds"])
        assert client.post("/auth/login", json={}).status_code == 400, "login has its own budget"
    # Other routes have their own, generous budget.
    assert client_is_served(edge)


def client_is_served(edge) -> bool:
    return edge.get("/auth/jwks.json").status_code == 200
