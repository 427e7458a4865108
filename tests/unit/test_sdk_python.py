"""The Python client's own rules (sdk/python/autosalon_client) against a fake API in this
process, a real gRPC server whose servicers answer as each test scripts them: a refusal becomes
the exception of its code with the details' reason, metadata and field violations; reads alone
are tried again on UNAVAILABLE, within the deadline; every call has a deadline; creations carry
an idempotency key; a watch (a server-streaming call) streams with the same token and refusals,
no deadline unless it names one; the access token is sent, refreshed before it expires and after a refusal,
and a sign-in that cannot be renewed ends. Also what the wheel's build adds to the generated
code: typed, documented gRPC stubs, and the refusal of a partner proto that imports an
internal one."""
import ast
import collections
import sys
from concurrent import futures

import grpc
import pytest
from google.protobuf import descriptor_pb2, duration_pb2, empty_pb2
from google.rpc import error_details_pb2, status_pb2

from autosalon.auth.v1 import auth_pb2, auth_pb2_grpc
from autosalon.catalog.v1 import catalog_pb2, catalog_pb2_grpc
from autosalon.sales.v1 import sales_pb2, sales_pb2_grpc
from scripts.clients import python as python_client
from scripts.mesh.tools import DESCRIPTORS
from services.kit.settings import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "sdk" / "python"))
from autosalon_client import Client, errors  # noqa: E402  (from the sources, not a wheel)
from autosalon_client import client as client_module  # noqa: E402

TOKEN_LIFETIME = 900


class Status(collections.namedtuple("Status", ("code", "details", "trailing_metadata")), grpc.Status):
    pass


def status(code: grpc.StatusCode, message: str, *details, headers: tuple = ()) -> Status:
    """A refusal with google.rpc details, as the API sends them."""
    proto = status_pb2.Status(code=code.value[0], message=message)
    for detail in details:
        proto.details.add().Pack(detail)
    return Status(code, message, (("grpc-status-details-bin", proto.SerializeToString()), *headers))


def unavailable() -> Status:
    return status(grpc.StatusCode.UNAVAILABLE, "catalog is unavailable")


class Api:
    """What the fake API was sent, and the refusals it answers before it answers well."""

    def __init__(self):
        self.refusals = collections.defaultdict(list)
        self.metadata = collections.defaultdict(list)
        self.time_left = collections.defaultdict(list)
        self.access_tokens: set[str] = set()
        self.refresh_tokens: set[str] = set()
        self.issued = 0
        self.stream_end: Status | None = None

    def answer(self, method: str, context, response, refusal: Status | None = None):
        """Records the call; answers `refusal`, else the next refusal scripted, else `response`."""
        self.metadata[method].append(dict(context.invocation_metadata()))
        self.time_left[method].append(context.time_remaining())
        refusal = refusal or (self.refusals[method].pop(0) if self.refusals[method] else None)
        if refusal:
            context.abort_with_status(refusal)
        return response

    def tokens(self) -> auth_pb2.TokenPair:
        self.issued += 1
        access, refresh = f"access-{self.issued}", f"refresh-{self.issued}"
        self.access_tokens.add(access)
        self.refresh_tokens.add(refresh)
        return auth_pb2.TokenPair(access_token=access, expires_in=TOKEN_LIFETIME, refresh_token=refresh,
                                  token_type="Bearer", user=auth_pb2.User(name="users/1"))

    def sent(self, method: str, key: str) -> list:
        return [metadata.get(key) for metadata in self.metadata[method]]


class Auth(auth_pb2_grpc.AuthServiceServicer):
    def __init__(self, api: Api):
        self.api = api

    def Login(self, request, context):
        return self.api.answer("Login", context, self.api.tokens())

    def RefreshToken(self, request, context):
        if request.refresh_token not in self.api.refresh_tokens:
            return self.api.answer("RefreshToken", context, None, status(
                grpc.StatusCode.UNAUTHENTICATED, "refresh token was used already",
                error_details_pb2.ErrorInfo(reason="REFRESH_TOKEN_REUSED", domain="autosalon")))
        self.api.refresh_tokens.discard(request.refresh_token)
        return self.api.answer("RefreshToken", context, self.api.tokens())

    def GetCurrentUser(self, request, context):
        token = dict(context.invocation_metadata()).get("authorization", "").removeprefix("Bearer ")
        expired = None if token in self.api.access_tokens else status(
            grpc.StatusCode.UNAUTHENTICATED, "the token has expired",
            error_details_pb2.ErrorInfo(reason="TOKEN_EXPIRED", domain="autosalon"))
        return self.api.answer("GetCurrentUser", context, auth_pb2.User(name="users/1"), expired)

    def ChangePassword(self, request, context):
        return self.api.answer("ChangePassword", context, self.api.tokens())

    def Logout(self, request, context):
        self.api.refresh_tokens.discard(request.refresh_token)
        return self.api.answer("Logout", context, empty_pb2.Empty())


class Catalog(catalog_pb2_grpc.CatalogServiceServicer):
    def __init__(self, api: Api):
        self.api = api

    def ListModels(self, request, context):
        return self.api.answer("ListModels", context, catalog_pb2.ListModelsResponse(total_size=7))

    def CreateModel(self, request, context):
        return self.api.answer("CreateModel", context, catalog_pb2.VehicleModel(name="models/1"))

    def UpdateModel(self, request, context):
        return self.api.answer("UpdateModel", context, catalog_pb2.VehicleModel(name="models/1"))


class Sales(sales_pb2_grpc.SalesServiceServicer):
    def __init__(self, api: Api):
        self.api = api

    def ConfirmOrder(self, request, context):
        return self.api.answer("ConfirmOrder", context, sales_pb2.Order(name=request.name))

    def WatchOrder(self, request, context):
        """Two messages (for a valid token, after any refusal scripted), then `api.stream_end`."""
        token = dict(context.invocation_metadata()).get("authorization", "").removeprefix("Bearer ")
        expired = None if token in self.api.access_tokens else status(grpc.StatusCode.UNAUTHENTICATED, "expired")
        self.api.answer("WatchOrder", context, None, expired)
        for etag in ("1", "2"):
            yield sales_pb2.Order(name=request.name, etag=etag)
        if self.api.stream_end:
            context.abort_with_status(self.api.stream_end)


class Clock:
    """Time as the client sees it: it moves only when the client sleeps or a test says so."""

    def __init__(self):
        self.now = 1000.0
        self.pauses: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.pauses.append(seconds)
        self.now += seconds


@pytest.fixture
def api():
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    api = Api()
    auth_pb2_grpc.add_AuthServiceServicer_to_server(Auth(api), server)
    catalog_pb2_grpc.add_CatalogServiceServicer_to_server(Catalog(api), server)
    sales_pb2_grpc.add_SalesServiceServicer_to_server(Sales(api), server)
    api.target = f"127.0.0.1:{server.add_insecure_port('127.0.0.1:0')}"
    server.start()
    yield api
    server.stop(None)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def client(api, clock):
    with Client(api.target, clock=clock, sleep=clock.sleep) as client:
        yield client


def list_models(client: Client, **options) -> catalog_pb2.ListModelsResponse:
    return client.catalog.ListModels(catalog_pb2.ListModelsRequest(), **options)


def create_model(client: Client, **options) -> catalog_pb2.VehicleModel:
    return client.catalog.CreateModel(catalog_pb2.CreateModelRequest(), **options)


# Refusals become exceptions.

def test_a_refusal_raises_its_class_with_reason_metadata_and_field_violations(api, client):
    api.refusals["CreateModel"].append(status(
        grpc.StatusCode.INVALID_ARGUMENT, "model has invalid fields",
        error_details_pb2.ErrorInfo(reason="INVALID_ARGUMENT", domain="autosalon", metadata={"resource": "models"}),
        error_details_pb2.BadRequest(field_violations=[
            error_details_pb2.BadRequest.FieldViolation(field="year", description="must be 1990 to 2030",
                                                        reason="OUT_OF_RANGE"),
            error_details_pb2.BadRequest.FieldViolation(field="brand", description="is required"),
        ]),
    ))
    with pytest.raises(errors.InvalidArgument) as raised:
        create_model(client)
    refusal = raised.value
    assert refusal.code == grpc.StatusCode.INVALID_ARGUMENT and refusal.message == "model has invalid fields"
    assert refusal.reason == "INVALID_ARGUMENT" and refusal.metadata == {"resource": "models"}
    assert refusal.violations == (errors.FieldViolation("year", "must be 1990 to 2030", "OUT_OF_RANGE"),
                                  errors.FieldViolation("brand", "is required", None))
    assert "year: must be 1990 to 2030" in str(refusal) and "[INVALID_ARGUMENT]" in str(refusal)
    assert isinstance(refusal.__cause__, grpc.RpcError)


@pytest.mark.parametrize("code, kind", [
    (grpc.StatusCode.INVALID_ARGUMENT, errors.InvalidArgument),
    (grpc.StatusCode.NOT_FOUND, errors.NotFound),
    (grpc.StatusCode.ALREADY_EXISTS, errors.AlreadyExists),
    (grpc.StatusCode.FAILED_PRECONDITION, errors.FailedPrecondition),
    (grpc.StatusCode.ABORTED, errors.Aborted),
    (grpc.StatusCode.PERMISSION_DENIED, errors.PermissionDenied),
    (grpc.StatusCode.UNAUTHENTICATED, errors.Unauthenticated),
    (grpc.StatusCode.RESOURCE_EXHAUSTED, errors.RateLimited),
    (grpc.StatusCode.UNAVAILABLE, errors.Unavailable),
    (grpc.StatusCode.DEADLINE_EXCEEDED, errors.DeadlineExceeded),
    (grpc.StatusCode.UNIMPLEMENTED, errors.Unimplemented),
    (grpc.StatusCode.INTERNAL, errors.Internal),
    (grpc.StatusCode.DATA_LOSS, errors.AutosalonError),
])
def test_each_code_raises_its_class_and_a_status_without_details_has_no_reason(api, client, code, kind):
    api.refusals["CreateModel"].append(Status(code, "refused", ()))
    with pytest.raises(errors.AutosalonError) as raised:
        create_model(client)
    assert type(raised.value) is kind and raised.value.code == code
    assert raised.value.reason is None and raised.value.metadata == {} and raised.value.violations == ()
    assert raised.value.retry_after is None


def test_a_rate_limit_says_when_to_come_back_in_its_details_or_its_header(api, client):
    api.refusals["CreateModel"] += [
        status(grpc.StatusCode.RESOURCE_EXHAUSTED, "slow down",
               error_details_pb2.RetryInfo(retry_delay=duration_pb2.Duration(seconds=3))),
        status(grpc.StatusCode.RESOURCE_EXHAUSTED, "slow down", headers=(("retry-after", "7"),)),
    ]
    for seconds in (3.0, 7.0):
        with pytest.raises(errors.RateLimited) as raised:
            create_model(client)
        assert raised.value.retry_after == seconds


# Retries: reads on UNAVAILABLE only, within the deadline.

def test_a_read_refused_unavailable_is_tried_again_after_growing_jittered_pauses(api, client, clock):
    api.refusals["ListModels"] += [unavailable(), unavailable()]
    assert list_models(client).total_size == 7
    assert len(api.metadata["ListModels"]) == 3
    first, second = clock.pauses
    assert 0.05 <= first <= 0.1 and 0.1 <= second <= 0.2


def test_a_read_gives_up_after_its_retries(api, client):
    api.refusals["ListModels"] += [unavailable() for _ in range(10)]
    with pytest.raises(errors.Unavailable):
        list_models(client)
    assert len(api.metadata["ListModels"]) == 4


@pytest.mark.parametrize("method, call", [
    ("CreateModel", create_model),
    ("UpdateModel", lambda client: client.catalog.UpdateModel(catalog_pb2.UpdateModelRequest())),
    ("ConfirmOrder", lambda client: client.sales.ConfirmOrder(sales_pb2.ConfirmOrderRequest(name="orders/1"))),
])
def test_a_write_refused_unavailable_is_not_tried_again(api, client, clock, method, call):
    api.refusals[method] += [unavailable(), unavailable()]
    with pytest.raises(errors.Unavailable):
        call(client)
    assert len(api.metadata[method]) == 1 and clock.pauses == []


@pytest.mark.parametrize("code", [grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INTERNAL,
                                  grpc.StatusCode.DEADLINE_EXCEEDED])
def test_a_read_refused_otherwise_is_not_tried_again(api, client, clock, code):
    api.refusals["ListModels"].append(Status(code, "refused", ()))
    with pytest.raises(errors.AutosalonError):
        list_models(client)
    assert len(api.metadata["ListModels"]) == 1 and clock.pauses == []


def test_retries_share_the_deadline_of_the_call(api, client, clock, monkeypatch):
    # Unjittered pauses: 0.1, 0.2, then 0.4, which would pass the deadline.
    monkeypatch.setattr(client_module.random, "uniform", lambda low, high: high)
    api.refusals["ListModels"] += [unavailable() for _ in range(10)]
    with pytest.raises(errors.Unavailable):
        list_models(client, timeout=0.35)
    assert clock.pauses == [0.1, 0.2]
    # Each try is sent with what is left: 0.35, 0.25, 0.05 (to gRPC's few milliseconds).
    first, second, third = api.time_left["ListModels"]
    assert 0 < third < 0.1 < second < 0.3 < first < 0.4


# Deadlines and idempotency keys.

def test_every_call_has_a_deadline_the_clients_or_its_own(api, clock):
    with Client(api.target, timeout=5, clock=clock, sleep=clock.sleep) as client:
        list_models(client)
        list_models(client, timeout=2)
    default, own = api.time_left["ListModels"]
    # gRPC carries a deadline to a few milliseconds.
    assert 0 < own < 2.5 < default < 5.5


def test_each_creation_carries_a_new_idempotency_key_and_a_callers_own_is_kept(api, client):
    create_model(client)
    create_model(client)
    create_model(client, metadata=[("idempotency-key", "mine")])
    first, second, own = api.sent("CreateModel", "idempotency-key")
    assert first and second and first != second and own == "mine"


def test_no_other_call_carries_an_idempotency_key(api, client):
    list_models(client)
    client.catalog.UpdateModel(catalog_pb2.UpdateModelRequest())
    client.sales.ConfirmOrder(sales_pb2.ConfirmOrderRequest(name="orders/1"))
    for method in ("ListModels", "UpdateModel", "ConfirmOrder"):
        assert api.sent(method, "idempotency-key") == [None]


# Watches (server-streaming calls).

def test_a_watch_streams_with_the_token_and_no_deadline_unless_it_names_one(api, client):
    client.sign_in("buyer@example.ru", "Correct-Horse-42")
    assert [order.etag for order in client.watch_order("orders/1")] == ["1", "2"]
    assert [order.etag for order in client.watch_order("orders/1", timeout=30)] == ["1", "2"]
    assert api.sent("WatchOrder", "authorization") == ["Bearer access-1"] * 2
    endless, named = api.time_left["WatchOrder"]
    # A call without a deadline has (nearly) forever, as the server sees it.
    assert endless > 10 ** 9 and 0 < named < 31


def test_a_watch_refused_before_its_first_message_is_made_again_after_a_refresh_or_a_pause(api, client, clock):
    client.sign_in("buyer@example.ru", "Correct-Horse-42")
    api.access_tokens.clear()
    assert [order.etag for order in client.watch_order("orders/1")] == ["1", "2"]
    assert api.sent("WatchOrder", "authorization") == ["Bearer access-1", "Bearer access-2"]
    api.refusals["WatchOrder"].append(unavailable())
    assert [order.etag for order in client.watch_order("orders/1")] == ["1", "2"]
    assert len(clock.pauses) == 1


def test_a_watch_refused_midway_raises_its_class_and_is_not_made_again(api, client):
    client.sign_in("buyer@example.ru", "Correct-Horse-42")
    api.stream_end = status(grpc.StatusCode.NOT_FOUND, "orders/1 does not exist",
                            error_details_pb2.ErrorInfo(reason="NOT_FOUND", domain="autosalon"))
    received = []
    with pytest.raises(errors.NotFound) as refused:
        for order in client.watch_order("orders/1"):
            received.append(order.etag)
    assert received == ["1", "2"] and refused.value.reason == "NOT_FOUND"
    assert len(api.metadata["WatchOrder"]) == 1


# The sign-in.

def test_calls_carry_the_signed_in_users_access_token(api, client):
    list_models(client)
    assert client.sign_in("buyer@example.ru", "Correct-Horse-42").name == "users/1"
    list_models(client)
    list_models(client, metadata=[("authorization", "Bearer someone-else")])
    assert api.sent("ListModels", "authorization") == [None, "Bearer access-1", "Bearer someone-else"]
    assert api.sent("Login", "authorization") == [None]


def test_the_access_token_is_refreshed_shortly_before_it_expires(api, client, clock):
    client.sign_in("buyer@example.ru", "Correct-Horse-42")
    clock.now += TOKEN_LIFETIME - 61
    client.auth.GetCurrentUser(auth_pb2.GetCurrentUserRequest())
    assert api.sent("RefreshToken", "authorization") == []
    clock.now += 1
    client.auth.GetCurrentUser(auth_pb2.GetCurrentUserRequest())
    assert len(api.metadata["RefreshToken"]) == 1
    assert api.sent("GetCurrentUser", "authorization") == ["Bearer access-1", "Bearer access-2"]
    assert client.tokens.refresh_token == "refresh-2"


def test_a_token_refused_as_expired_is_refreshed_once_and_the_call_sent_again(api, client):
    client.sign_in("buyer@example.ru", "Correct-Horse-42")
    api.access_tokens.clear()
    assert client.auth.GetCurrentUser(auth_pb2.GetCurrentUserRequest()).name == "users/1"
    assert api.sent("GetCurrentUser", "authorization") == ["Bearer access-1", "Bearer access-2"]
    assert len(api.metadata["RefreshToken"]) == 1


def test_a_call_refused_again_after_the_refresh_is_raised(api, client):
    client.sign_in("buyer@example.ru", "Correct-Horse-42")
    api.access_tokens.clear()
    api.refusals["GetCurrentUser"] += [status(grpc.StatusCode.UNAUTHENTICATED, "role changed")] * 2
    with pytest.raises(errors.Unauthenticated):
        client.auth.GetCurrentUser(auth_pb2.GetCurrentUserRequest())
    assert len(api.metadata["GetCurrentUser"]) == 2 and len(api.metadata["RefreshToken"]) == 1


def test_a_sign_in_that_cannot_be_renewed_raises_and_ends(api, client):
    client.sign_in("buyer@example.ru", "Correct-Horse-42")
    api.access_tokens.clear()
    api.refresh_tokens.clear()
    with pytest.raises(errors.Unauthenticated) as raised:
        client.auth.GetCurrentUser(auth_pb2.GetCurrentUserRequest())
    assert raised.value.reason == "REFRESH_TOKEN_REUSED"
    assert client.tokens is None
    list_models(client)
    assert api.sent("ListModels", "authorization") == [None]


def test_a_token_pair_the_api_answers_becomes_the_sign_in(api, client):
    client.sign_in("buyer@example.ru", "Correct-Horse-42")
    client.auth.ChangePassword(auth_pb2.ChangePasswordRequest())
    list_models(client)
    assert api.sent("ListModels", "authorization") == ["Bearer access-2"]


def test_signing_out_revokes_the_sign_in_and_calls_are_anonymous_again(api, client):
    client.sign_in("buyer@example.ru", "Correct-Horse-42")
    client.sign_out()
    list_models(client)
    assert api.refresh_tokens == set() and api.sent("Logout", "authorization") == ["Bearer access-1"]
    assert client.tokens is None and api.sent("ListModels", "authorization") == [None]


# The client and the wheel's generated additions.

def test_the_client_has_every_partner_service():
    files = descriptor_pb2.FileDescriptorSet.FromString(DESCRIPTORS.read_bytes()).file
    services = {service.name for file in files if file.name.startswith("autosalon/") for service in file.service}
    with Client() as client:
        exposed = {type(stub).__name__.removesuffix("Stub") for stub in vars(client).values()
                   if type(stub).__name__.endswith("ServiceStub")}
    assert exposed == services


def test_the_stubs_are_typed_and_documented_by_their_protos():
    files = descriptor_pb2.FileDescriptorSet.FromString(DESCRIPTORS.read_bytes()).file
    typed = python_client._stub_types(files)
    assert "autosalon/common/v1/common_pb2_grpc.pyi" not in typed
    sales = typed["autosalon/sales/v1/sales_pb2_grpc.pyi"]
    tree = ast.parse(sales)
    stub = next(node for node in tree.body if isinstance(node, ast.ClassDef))
    methods = {node.name: node for node in stub.body if isinstance(node, ast.FunctionDef)}
    assert stub.name == "SalesServiceStub" and "CreateOrder" in methods and "ListOrderEvents" in methods
    create = methods["CreateOrder"]
    assert ast.unparse(create.args.args[1].annotation) == "autosalon.sales.v1.sales_pb2.CreateOrderRequest"
    assert ast.unparse(create.returns) == "autosalon.sales.v1.sales_pb2.Order"
    assert "Idempotency-Key" in ast.get_docstring(create)
    auth = typed["autosalon/auth/v1/auth_pb2_grpc.pyi"]
    assert "import google.protobuf.empty_pb2" in auth and "-> google.protobuf.empty_pb2.Empty:" in auth


def test_a_partner_proto_importing_an_internal_one_stops_the_build():
    partner = descriptor_pb2.FileDescriptorProto(
        name="autosalon/sales/v1/sales.proto",
        dependency=["autosalon/common/v1/common.proto", "google/api/annotations.proto", "mesh/v1/stats.proto"])
    with pytest.raises(SystemExit, match="mesh/v1/stats.proto"):
        python_client._check_imports([partner])
    python_client._check_imports([descriptor_pb2.FileDescriptorProto(
        name="autosalon/sales/v1/sales.proto", dependency=["google/protobuf/timestamp.proto"])])
