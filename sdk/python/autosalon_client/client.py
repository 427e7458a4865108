"""The client a partner works with: the API's generated gRPC stubs, one attribute a service
(`client.catalog.ListModels(...)`, `client.sales.CreateOrder(...)`), on one channel to the edge
whose every call follows the same rules:

- a deadline: `timeout` seconds unless the call names its own (`timeout=`); retries share it;
- the signed-in user's access token as `authorization: Bearer`, refreshed (RefreshToken) when it
  has less than `refresh_before` seconds left, and once more when a call is refused
  UNAUTHENTICATED; every TokenPair the API answers (Login, RefreshToken, ChangePassword) becomes
  the client's sign-in. A caller's own `authorization` metadata is sent as it is;
- reads (the methods the API serves as HTTP GET) refused UNAVAILABLE are tried again, up to
  `read_retries` times after jittered, doubling pauses, within the deadline; nothing else is
  retried, since a write may have happened before the answer was lost;
- creations (the Create* methods) carry an `idempotency-key`: a new one each call, unless the
  caller sends its own in `metadata`, which is how a retry of a creation is made safe;
- a refused call raises the `errors` class of its code (errors.InvalidArgument with
  `.violations`, errors.NotFound, errors.Unauthenticated, ...) with `.reason` and `.metadata`
  from its google.rpc.ErrorInfo, the gRPC error as its __cause__;
- a server-streaming call (a watch: `client.sales.WatchOrder(...)`, or `client.watch_order(name)`)
  is an iterator of its messages and the call (`cancel()` ends it). It has no deadline unless it
  names one (`timeout=`, or the client's `stream_timeout`): the API ends a watch itself. It
  carries the token like any call, a refusal before its first message is tried again as a read's
  is (after a refresh, or on UNAVAILABLE), and a refusal raises as above while iterating.

Calls block; one Client may serve several threads (a refresh is made by one of them at a time).
"""
from __future__ import annotations

import collections
import dataclasses
import functools
import math
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from importlib import metadata as package_metadata
from typing import Any

import grpc
from google.api import annotations_pb2
from google.protobuf import descriptor_pool

from autosalon.auth.v1 import auth_pb2, auth_pb2_grpc
from autosalon.booking.v1 import booking_pb2_grpc
from autosalon.catalog.v1 import catalog_pb2_grpc
from autosalon.config.v1 import config_pb2_grpc
from autosalon.customer.v1 import customer_pb2_grpc
from autosalon.financing.v1 import financing_pb2_grpc
from autosalon.insurance.v1 import insurance_pb2_grpc
from autosalon.inventory.v1 import inventory_pb2_grpc
from autosalon.monitoring.v1 import monitoring_pb2_grpc
from autosalon.notification.v1 import notification_pb2_grpc
from autosalon.overview.v1 import overview_pb2_grpc
from autosalon.payment.v1 import payment_pb2, payment_pb2_grpc
from autosalon.pricing.v1 import pricing_pb2_grpc
from autosalon.reporting.v1 import reporting_pb2_grpc
from autosalon.sales.v1 import sales_pb2, sales_pb2_grpc

from . import errors

# The edge of a dealership's own machine; partners are given theirs.
DEFAULT_TARGET = "127.0.0.1:8080"
AUTHORIZATION = "authorization"
IDEMPOTENCY_KEY = "idempotency-key"
# Pauses between the tries of a read: the first, then doubled each time up to the longest.
FIRST_PAUSE_SECONDS = 0.1
LONGEST_PAUSE_SECONDS = 2.0

try:
    __version__ = package_metadata.version("autosalon-client")
except package_metadata.PackageNotFoundError:
    # Imported from the repository's sources rather than the wheel.
    __version__ = "0+source"


@dataclasses.dataclass(frozen=True)
class _Method:
    """What the call rules need to know of a method."""
    read: bool
    creates: bool


@functools.cache
def _method(path: str) -> _Method:
    """What a method is, by its gRPC path ("/autosalon.sales.v1.SalesService/CreateOrder")."""
    service, _, name = path.lstrip("/").rpartition("/")
    try:
        descriptor = descriptor_pool.Default().FindMethodByName(f"{service}.{name}")
    except KeyError:
        return _Method(read=False, creates=False)
    http = descriptor.GetOptions().Extensions[annotations_pb2.http]
    return _Method(read=http.WhichOneof("pattern") == "get", creates=name.startswith("Create"))


class _CallDetails(
    collections.namedtuple("_CallDetails", ("method", "timeout", "metadata", "credentials", "wait_for_ready",
                                            "compression")),
    grpc.ClientCallDetails,
):
    """What one try of a call is sent with."""


class _Session:
    """The signed-in user's tokens, and their refresh."""

    def __init__(self, auth: auth_pb2_grpc.AuthServiceStub, timeout: float, refresh_before: float,
                 clock: Callable[[], float]):
        # A stub on the plain channel: a refresh follows none of the calls' rules.
        self._auth = auth
        self._timeout = timeout
        self._refresh_before = refresh_before
        self._clock = clock
        self._lock = threading.Lock()
        self.tokens: auth_pb2.TokenPair | None = None
        self._expires_at = 0.0

    def adopt(self, tokens: auth_pb2.TokenPair) -> None:
        with self._lock:
            self._adopt(tokens)

    def forget(self) -> None:
        with self._lock:
            self.tokens = None

    def access_token(self) -> str | None:
        """The access token to send (None when signed out), refreshed first if it is about
        to expire."""
        with self._lock:
            if self.tokens is not None and self._clock() >= self._expires_at - self._refresh_before:
                self._refresh()
            return self.tokens.access_token if self.tokens else None

    def refresh_refused(self, refused: str) -> None:
        """Refreshes after a call with the access token `refused` was refused, unless another
        thread has done so meanwhile."""
        with self._lock:
            if self.tokens is not None and self.tokens.access_token == refused:
                self._refresh()

    def _adopt(self, tokens: auth_pb2.TokenPair) -> None:
        self.tokens = tokens
        self._expires_at = self._clock() + tokens.expires_in

    def _refresh(self) -> None:
        request = auth_pb2.RefreshTokenRequest(refresh_token=self.tokens.refresh_token)
        try:
            tokens = self._auth.RefreshToken(request, timeout=self._timeout)
        except grpc.RpcError as error:
            if error.code() == grpc.StatusCode.UNAUTHENTICATED:
                # The sign-in has ended (expired, revoked, reused): only signing in again helps.
                self.tokens = None
            raise errors.from_call(error) from error
        self._adopt(tokens)


def _pause(retry: int) -> float:
    """Seconds to wait before the read's `retry`-th retry (0 for the first), jittered so that
    clients refused together do not come back together."""
    return random.uniform(0.5, 1.0) * min(LONGEST_PAUSE_SECONDS, FIRST_PAUSE_SECONDS * 2 ** retry)


def _has(metadata: Sequence[tuple[str, Any]], key: str) -> bool:
    return any(name.lower() == key for name, _ in metadata)


class _Tries:
    """One call's tries: sent with `send()` (the try and the token it carried), each refusal
    asked `again(error, token)` whether to try once more (having refreshed the token, or
    paused before a read's retry, within the call's deadline)."""

    def __init__(self, rules: _CallRules, continuation, details, request, default_timeout: float | None):
        self._rules = rules
        self._continuation = continuation
        self._details = details
        self._request = request
        self.method = _method(details.method)
        timeout = default_timeout if details.timeout is None else details.timeout
        self._deadline = math.inf if timeout is None else rules.clock() + timeout
        self._metadata = list(details.metadata or ())
        if self.method.creates and not _has(self._metadata, IDEMPOTENCY_KEY):
            self._metadata.append((IDEMPOTENCY_KEY, uuid.uuid4().hex))
        self._own_authorization = _has(self._metadata, AUTHORIZATION)
        self._retries, self._refreshed = 0, False

    def send(self) -> tuple[Any, str | None]:
        token = None if self._own_authorization else self._rules.session.access_token()
        sent = [*self._metadata, (AUTHORIZATION, f"Bearer {token}")] if token else self._metadata
        details = self._details
        time_left = None if self._deadline == math.inf else max(self._deadline - self._rules.clock(), 0.0)
        return self._continuation(_CallDetails(details.method, time_left, sent, details.credentials,
                                               details.wait_for_ready, details.compression), self._request), token

    def again(self, error: grpc.RpcError, token: str | None) -> bool:
        code = error.code()
        if code == grpc.StatusCode.UNAUTHENTICATED and token and not self._refreshed:
            self._refreshed = True
            self._rules.session.refresh_refused(token)
            return True
        if code == grpc.StatusCode.UNAVAILABLE and self.method.read and self._retries < self._rules.read_retries:
            pause = _pause(self._retries)
            if self._rules.clock() + pause < self._deadline:
                self._retries += 1
                self._rules.sleep(pause)
                return True
        return False


class _Stream:
    """A server-streaming call: the iterator of its messages, and the call itself (`cancel()`,
    `code()`, ...). A refusal raises the errors class of its code; before the first message,
    the call is made again when its tries say so."""

    def __init__(self, tries: _Tries):
        self._tries = tries
        self._call, self._token = tries.send()
        self._received = False

    def __iter__(self) -> _Stream:
        return self

    def __next__(self):
        while True:
            try:
                message = next(self._call)
            except grpc.RpcError as error:
                if not self._received and self._tries.again(error, self._token):
                    self._call, self._token = self._tries.send()
                    continue
                raise errors.from_call(error) from error
            self._received = True
            return message

    def __getattr__(self, name: str):
        return getattr(self._call, name)


class _CallRules(grpc.UnaryUnaryClientInterceptor, grpc.UnaryStreamClientInterceptor):
    """The rules of the module's docstring, applied to every call on the client's channel."""

    def __init__(self, session: _Session, timeout: float, stream_timeout: float | None, read_retries: int,
                 clock: Callable[[], float], sleep: Callable[[float], None]):
        self.session = session
        self._timeout = timeout
        self._stream_timeout = stream_timeout
        self.read_retries = read_retries
        self.clock = clock
        self.sleep = sleep

    def intercept_unary_unary(self, continuation, details, request):
        tries = _Tries(self, continuation, details, request, self._timeout)
        while True:
            outcome, token = tries.send()
            try:
                response = outcome.result()
            except grpc.RpcError as error:
                if tries.again(error, token):
                    continue
                raise errors.from_call(error) from error
            if isinstance(response, auth_pb2.TokenPair):
                self.session.adopt(response)
            return outcome

    def intercept_unary_stream(self, continuation, details, request):
        return _Stream(_Tries(self, continuation, details, request, self._stream_timeout))


class Client:
    """The Autosalon API through its edge at `target` ("host:port"), over TLS when `credentials`
    (grpc.ssl_channel_credentials()) are given. See the module's docstring for what every call
    does; `timeout`, `stream_timeout` (None: a stream waits as long as the API keeps it),
    `read_retries` and `refresh_before` tune it, `options` go to the gRPC channel. `clock`
    (seconds, monotonic) and `sleep` are for tests."""

    def __init__(self, target: str = DEFAULT_TARGET, *, credentials: grpc.ChannelCredentials | None = None,
                 timeout: float = 10.0, stream_timeout: float | None = None, read_retries: int = 3,
                 refresh_before: float = 60.0,
                 options: Sequence[tuple[str, Any]] = (), clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        channel_options = [("grpc.primary_user_agent", f"autosalon-client/{__version__}"), *options]
        self._plain = (grpc.secure_channel(target, credentials, channel_options) if credentials
                       else grpc.insecure_channel(target, channel_options))
        self._session = _Session(auth_pb2_grpc.AuthServiceStub(self._plain), timeout, refresh_before, clock)
        channel = grpc.intercept_channel(self._plain, _CallRules(self._session, timeout, stream_timeout, read_retries,
                                                                 clock, sleep))
        self.auth = auth_pb2_grpc.AuthServiceStub(channel)
        self.booking = booking_pb2_grpc.BookingServiceStub(channel)
        self.catalog = catalog_pb2_grpc.CatalogServiceStub(channel)
        self.config = config_pb2_grpc.ConfigServiceStub(channel)
        self.customer = customer_pb2_grpc.CustomerServiceStub(channel)
        self.financing = financing_pb2_grpc.FinancingServiceStub(channel)
        self.insurance = insurance_pb2_grpc.InsuranceServiceStub(channel)
        self.inventory = inventory_pb2_grpc.InventoryServiceStub(channel)
        self.monitoring = monitoring_pb2_grpc.MonitoringServiceStub(channel)
        self.notification = notification_pb2_grpc.NotificationServiceStub(channel)
        self.overview = overview_pb2_grpc.OverviewServiceStub(channel)
        self.payment = payment_pb2_grpc.PaymentServiceStub(channel)
        self.pricing = pricing_pb2_grpc.PricingServiceStub(channel)
        self.reporting = reporting_pb2_grpc.ReportingServiceStub(channel)
        self.sales = sales_pb2_grpc.SalesServiceStub(channel)

    def sign_in(self, email: str, password: str) -> auth_pb2.User:
        """Signs in (Login); later calls carry the user's token. errors.Unauthenticated for a
        wrong email or password."""
        return self.auth.Login(auth_pb2.LoginRequest(email=email, password=password)).user

    def sign_out(self) -> None:
        """Ends the sign-in (Logout, which revokes its refresh token); later calls are anonymous."""
        tokens = self._session.tokens
        if tokens is None:
            return
        try:
            self.auth.Logout(auth_pb2.LogoutRequest(refresh_token=tokens.refresh_token))
        finally:
            self._session.forget()

    def watch_order(self, name: str, timeout: float | None = None) -> Iterator[sales_pb2.Order]:
        """The order ("orders/{uuid}") as it is now, then again each time it changes, until it is
        completed or cancelled or the API ends the watch (WatchOrder); `cancel()` stops it."""
        return self.sales.WatchOrder(sales_pb2.WatchOrderRequest(name=name), timeout=timeout)

    def watch_payment(self, name: str, timeout: float | None = None) -> Iterator[payment_pb2.Payment]:
        """The payment ("payments/{uuid}") as it is now, then again each time it changes, until it
        is settled or the API ends the watch (WatchPayment); `cancel()` stops it."""
        return self.payment.WatchPayment(payment_pb2.WatchPaymentRequest(name=name), timeout=timeout)

    @property
    def tokens(self) -> auth_pb2.TokenPair | None:
        """The current sign-in's tokens (None when signed out)."""
        return self._session.tokens

    def close(self) -> None:
        self._plain.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()
