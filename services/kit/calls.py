"""Calls from one service to another: found through Consul, guarded by a breaker, with the
caller's deadline, trace id and identity carried along."""
import contextvars
import logging
import time
from typing import Any, Awaitable, Callable

import grpc
import pybreaker
from google.rpc import error_details_pb2, status_pb2

from . import errors, identity, logs, metrics
from .registry import Discovery, Instance

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 5.0
# Absolute time.monotonic() deadline of the RPC being served, set by the server's per-call policy.
deadline_var: contextvars.ContextVar[float | None] = contextvars.ContextVar("deadline", default=None)

# Statuses that say the peer is in trouble, not that it answered: only these trip a breaker.
OUTAGE_CODES = frozenset({
    grpc.StatusCode.UNAVAILABLE,
    grpc.StatusCode.DEADLINE_EXCEEDED,
    grpc.StatusCode.RESOURCE_EXHAUSTED,
    grpc.StatusCode.INTERNAL,
    grpc.StatusCode.UNKNOWN,
})

# Where gRPC carries a google.rpc.Status with its details.
_STATUS_DETAILS_KEY = "grpc-status-details-bin"

_ERROR_FOR_CODE: dict[grpc.StatusCode, type[errors.DomainError]] = {
    grpc.StatusCode.NOT_FOUND: errors.NotFound,
    grpc.StatusCode.ALREADY_EXISTS: errors.AlreadyExists,
    grpc.StatusCode.FAILED_PRECONDITION: errors.FailedPrecondition,
    grpc.StatusCode.PERMISSION_DENIED: errors.PermissionDenied,
    grpc.StatusCode.UNAUTHENTICATED: errors.Unauthenticated,
    grpc.StatusCode.ABORTED: errors.Conflict,
}


# A peer back from an outage is tried again within two seconds, not after gRPC's default
# backoff (which grows to two minutes).
CHANNEL_OPTIONS = [
    ("grpc.initial_reconnect_backoff_ms", 200),
    ("grpc.min_reconnect_backoff_ms", 200),
    ("grpc.max_reconnect_backoff_ms", 2000),
]


def _is_answer(error: BaseException) -> bool:
    """A peer that answers NOT_FOUND is healthy: only outages count against the breaker."""
    return isinstance(error, grpc.aio.AioRpcError) and error.code() not in OUTAGE_CODES


def new_breaker(name: str, fail_max: int, reset_timeout: float) -> pybreaker.CircuitBreaker:
    """A breaker for the peer `name`, its state among the instance's metrics."""
    return metrics.watch_breaker(pybreaker.CircuitBreaker(
        fail_max=fail_max, reset_timeout=reset_timeout, exclude=[_is_answer], name=name))


async def guarded(guard: pybreaker.CircuitBreaker, peer: str, call: Callable[[], Awaitable[Any]]) -> Any:
    """Runs `call` through the breaker `guard`. An open breaker or an outage becomes
    errors.Unavailable naming `peer`; the peer's answers (NOT_FOUND, …) are raised as they came."""
    try:
        # While open this refuses at once; after reset_timeout it lets one call try (half-open).
        with guard.calling():
            return await call()
    except pybreaker.CircuitBreakerError:
        raise errors.Unavailable(f"{peer} is unavailable (circuit open)", metadata={"dependency": peer}) from None
    except grpc.aio.AioRpcError as error:
        if error.code() in OUTAGE_CODES:
            reason = errors.DEADLINE_EXCEEDED if error.code() == grpc.StatusCode.DEADLINE_EXCEEDED else ""
            raise errors.Unavailable(f"{peer} is unavailable ({error.code().name})", reason,
                                     {"dependency": peer}) from None
        raise


class Outside:
    """An outside system (the payment gateway, the bank, the insurer): not in Consul, called at a
    fixed address through a breaker of its own. Only outages count against the breaker; the
    system's answers (a declined card, NOT_FOUND) are raised as they came. Each call carries the
    trace id as x-request-id, so the system's records can be matched with ours."""

    def __init__(self, name: str, address: str, stub_class: type, fail_max: int, reset_timeout: float,
                 timeout: float = 5.0):
        self.name = name
        self.timeout = timeout
        self.breaker = new_breaker(name, fail_max, reset_timeout)
        self._channel = grpc.aio.insecure_channel(address, options=CHANNEL_OPTIONS)
        self._stub = stub_class(self._channel)

    async def call(self, method: str, request: Any) -> Any:
        """The system's answer; errors.Unavailable naming it while it is away."""
        metadata = [("x-request-id", logs.trace_id_var.get())]
        return await guarded(self.breaker, self.name, lambda: getattr(self._stub, method)(
            request, timeout=self.timeout, metadata=metadata))

    def limit(self, fail_max: int, reset_timeout: float) -> None:
        """New limits for the breaker (a hot setting changed), its state kept."""
        self.breaker.fail_max, self.breaker.reset_timeout = fail_max, reset_timeout

    async def close(self) -> None:
        await self._channel.close()


class Peers:
    def __init__(self, discovery: Discovery, fail_max: int = 5, reset_timeout: float = 10.0):
        self._discovery = discovery
        self._fail_max = fail_max
        self._reset_timeout = reset_timeout
        self._channels: dict[str, grpc.aio.Channel] = {}
        self._breakers: dict[str, pybreaker.CircuitBreaker] = {}

    def breaker(self, service: str) -> pybreaker.CircuitBreaker:
        if service not in self._breakers:
            self._breakers[service] = new_breaker(service, self._fail_max, self._reset_timeout)
        return self._breakers[service]

    def _channel(self, target: str) -> grpc.aio.Channel:
        if target not in self._channels:
            self._channels[target] = grpc.aio.insecure_channel(target, options=CHANNEL_OPTIONS)
        return self._channels[target]

    async def call(
        self,
        service: str,
        stub_class: type,
        method: str,
        request: Any,
        timeout: float = DEFAULT_TIMEOUT,
        as_caller: bool = True,
    ) -> Any:
        """Calls `service`'s `method`; outages become errors.Unavailable, other statuses the
        matching domain error. With `as_caller`, the caller's token travels along.

        The calls between services are reads, so one an instance answers UNAVAILABLE is tried
        once more on another instance: one that died a moment ago stays listed until Consul's
        next health check (2 s), and half the calls would otherwise fail meanwhile."""
        instance = await self._discovery.pick(service)
        if instance is None:
            raise errors.Unavailable(f"{service} is unavailable (no healthy instance)", metadata={"dependency": service})

        async def attempt(target: Instance):
            return await getattr(stub_class(self._channel(target.target)), method)(
                request, timeout=self._timeout(timeout), metadata=self._metadata(as_caller))

        async def on_two_instances():
            try:
                return await attempt(instance)
            except grpc.aio.AioRpcError as error:
                if error.code() != grpc.StatusCode.UNAVAILABLE:
                    raise
                other = await self._discovery.pick(service, besides=instance)
                if other is None:
                    raise
                return await attempt(other)

        try:
            return await guarded(self.breaker(service), service, on_two_instances)
        except grpc.aio.AioRpcError as error:
            raise _domain_error(service, error) from None

    @staticmethod
    def _timeout(default: float) -> float:
        deadline = deadline_var.get()
        if deadline is None:
            return default
        return max(0.01, min(default, deadline - time.monotonic()))

    @staticmethod
    def _metadata(as_caller: bool) -> list[tuple[str, str]]:
        metadata = [("x-request-id", logs.trace_id_var.get())]
        caller = identity.optional()
        if as_caller and caller is not None:
            metadata.append(("authorization", f"Bearer {caller.token}"))
        return metadata

    async def close(self) -> None:
        for channel in self._channels.values():
            await channel.close()


def _domain_error(service: str, error: grpc.aio.AioRpcError) -> errors.DomainError:
    """The peer's refusal as the matching domain error, its reason, metadata and field
    violations kept: a refusal passed on reads to the caller's caller as the peer gave it
    (a sales order's options are refused by pricing under the same names)."""
    message = f"{service}: {error.details()}"
    info, violations = _error_details(error)
    if error.code() == grpc.StatusCode.INVALID_ARGUMENT:
        return errors.InvalidArgument(violations, message, info.reason)
    error_class = _ERROR_FOR_CODE.get(error.code(), errors.Unavailable)
    return error_class(message, info.reason, dict(info.metadata))


def _error_details(error: grpc.aio.AioRpcError) -> tuple[error_details_pb2.ErrorInfo, list[errors.Violation]]:
    """The google.rpc.ErrorInfo (empty if the peer sent none) and BadRequest violations of a refusal."""
    info, violations = error_details_pb2.ErrorInfo(), []
    for key, value in error.trailing_metadata() or ():
        if key != _STATUS_DETAILS_KEY:
            continue
        for detail in status_pb2.Status.FromString(value).details:
            bad_request = error_details_pb2.BadRequest()
            if detail.Unpack(bad_request):
                violations += [errors.Violation(violation.field, violation.description, violation.reason)
                               for violation in bad_request.field_violations]
            elif detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
                detail.Unpack(info)
    return info, violations
