"""The gRPC server every service runs: health, reflection, the per-call policy, Consul, graceful stop.

A service builds a `Microservice`, adds its servicer with an access rule per RPC and its
background tasks (outbox relay, consumers), and awaits `run()`.
"""
import asyncio
import contextlib
import logging
import os
import signal
import socket
import time
import uuid
from typing import Any, Awaitable, Callable

import grpc
import uvloop
from google.protobuf import any_pb2, message_factory
from google.protobuf.descriptor import ServiceDescriptor
from google.protobuf.message import DecodeError
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from grpc_status import rpc_status

from . import cores, errors, identity, logs, metrics, protos, tracing
from .calls import deadline_var
from .failures import DATABASE_TROUBLE, report_failure
from .registry import Consul

log = logging.getLogger(__name__)

_CODE_FOR_ERROR: dict[type[errors.DomainError], int] = {
    errors.InvalidArgument: code_pb2.INVALID_ARGUMENT,
    errors.NotFound: code_pb2.NOT_FOUND,
    errors.AlreadyExists: code_pb2.ALREADY_EXISTS,
    errors.FailedPrecondition: code_pb2.FAILED_PRECONDITION,
    errors.PermissionDenied: code_pb2.PERMISSION_DENIED,
    errors.Unauthenticated: code_pb2.UNAUTHENTICATED,
    errors.Conflict: code_pb2.ABORTED,
    errors.Unavailable: code_pb2.UNAVAILABLE,
    errors.ResourceExhausted: code_pb2.RESOURCE_EXHAUSTED,
}


def _packed(message) -> any_pb2.Any:
    detail = any_pb2.Any()
    detail.Pack(message)
    return detail


def _rich_status(code: int, message: str, reason: str, metadata: dict[str, str] | None = None,
                violations: list[errors.Violation] = ()) -> grpc.Status:
    """A gRPC status with its google.rpc.BadRequest (when fields are named) and ErrorInfo details."""
    status = status_pb2.Status(code=code, message=message)
    if violations:
        status.details.append(_packed(error_details_pb2.BadRequest(field_violations=[
            error_details_pb2.BadRequest.FieldViolation(
                field=violation.field, description=violation.description, reason=violation.reason)
            for violation in violations
        ])))
    status.details.append(_packed(error_details_pb2.ErrorInfo(
        reason=reason, domain=errors.ERROR_DOMAIN, metadata=metadata or {})))
    return rpc_status.to_status(status)


def status_for(error: errors.DomainError) -> grpc.Status:
    """The gRPC status for an error: its reason in google.rpc.ErrorInfo, its field errors in
    google.rpc.BadRequest."""
    return _rich_status(_CODE_FOR_ERROR.get(type(error), code_pb2.UNKNOWN), error.message, error.reason,
                       error.metadata,
                       error.violations if isinstance(error, errors.InvalidArgument) else ())


class _Unreadable:
    """A request whose bytes did not parse (text that is not UTF-8, say)."""

    def __init__(self, problem: str):
        self.problem = problem


def _parsed_or_refused(deserialize: Callable[[bytes], Any]) -> Callable[[bytes], Any]:
    """gRPC answers a request that fails to parse with UNKNOWN and the exception's class;
    this hands it to the handler as _Unreadable, to be answered as bad input."""

    def parse(data: bytes):
        try:
            return deserialize(data)
        except DecodeError as error:
            return _Unreadable(str(error))

    return parse


async def _abort(context: grpc.aio.ServicerContext, status: grpc.Status) -> None:
    await context.abort(status.code, status.details, status.trailing_metadata)


class CallCounts:
    """The calls an instance answered since it started, and those it failed (the server's fault
    or a dependency's: INTERNAL, UNAVAILABLE)."""

    def __init__(self):
        self.requests = 0
        self.failed = 0

    def answered(self, code: str) -> None:
        self.requests += 1
        if code in ("INTERNAL", "UNAVAILABLE"):
            self.failed += 1


# The ends of a call logged at DEBUG: Envoy's access log has every request; here, the failures
# stand out. A caller that leaves a stream (or whose deadline passes) ends it as it should.
_QUIET_ENDS = ("OK", "CANCELLED")
# Server-streaming calls (watches) an instance serves at once, unless its service says.
DEFAULT_MOST_STREAMS = 100


class _CallPolicy:
    """Per RPC: trace id, deadline, identity, access rule, error mapping and an access log.

    Applied to each method's handler when the service is registered, rather than by a server
    interceptor: an interceptor costs every call an extra round of coroutines (about 10 µs
    a call, measured on a bare health check; a twentieth of a small call's CPU).

    A server-streaming method (a watch) is an async generator of its messages, each written as
    it comes; at most `most_streams()` run at once, one more is refused RESOURCE_EXHAUSTED
    (BUSY)."""

    def __init__(self, rules: dict[str, Any], verifier: identity.TokenVerifier | None, calls: "CallCounts",
                 most_streams: Callable[[], int]):
        self._rules = rules
        self._verifier = verifier
        self._calls = calls
        self._most_streams = most_streams
        self.streams = 0

    def handlers(self, servicer: Any, descriptor: ServiceDescriptor) -> dict[str, grpc.RpcMethodHandler]:
        """The servicer's methods (unary, or server-streaming) as gRPC handlers, each under this policy."""
        handlers = {}
        for method in descriptor.methods:
            if method.client_streaming:
                raise ValueError(f"{descriptor.full_name}/{method.name}: client streaming is not served")
            request = message_factory.GetMessageClass(method.input_type)
            response = message_factory.GetMessageClass(method.output_type)
            make_handler = (grpc.unary_stream_rpc_method_handler if method.server_streaming
                            else grpc.unary_unary_rpc_method_handler)
            handlers[method.name] = make_handler(
                self._wrap(f"/{descriptor.full_name}/{method.name}", getattr(servicer, method.name),
                           method.server_streaming),
                request_deserializer=_parsed_or_refused(request.FromString),
                response_serializer=response.SerializeToString,
            )
        return handlers

    async def _stream(self, messages, context: grpc.aio.ServicerContext) -> None:
        """Writes each message of a streaming method as it comes, within the bound on streams."""
        if self.streams >= self._most_streams():
            raise errors.ResourceExhausted(
                f"this instance serves its most streams ({self._most_streams()}) at once; try again shortly",
                errors.BUSY)
        self.streams += 1
        try:
            # Closed at once however the stream ends, so the generator's own clean-up runs now.
            async with contextlib.aclosing(messages):
                async for message in messages:
                    await context.write(message)
        finally:
            self.streams -= 1

    def _wrap(self, method: str, behaviour: Callable[..., Any], streaming: bool):
        rule = self._rules.get(method)
        observe = metrics.rpc_observer(method)

        async def serve(request, context: grpc.aio.ServicerContext):
            metadata = dict(context.invocation_metadata() or ())
            logs.trace_id_var.set(metadata.get("x-request-id") or uuid.uuid4().hex)
            logs.rpc_var.set(method)
            remaining = context.time_remaining()
            deadline_var.set(time.monotonic() + remaining if remaining is not None else None)
            started, started_at = time.perf_counter(), time.time()
            code = "OK"
            try:
                identity.identity_var.set(await self._identify(metadata))
                identity.check_access(method, rule, identity.optional())
                if isinstance(request, _Unreadable):
                    raise errors.InvalidArgument([], f"the request cannot be read: {request.problem}")
                if unstorable := protos.nul_characters(request):
                    raise errors.InvalidArgument({path: "must not contain a NUL character" for path in unstorable})
                if streaming:
                    return await self._stream(behaviour(request, context), context)
                return await behaviour(request, context)
            except errors.DomainError as error:
                status = status_for(error)
                code = status.code.name
                await _abort(context, status)
            except asyncio.CancelledError:
                # A stream's caller left, or its deadline passed: gRPC cancels the handler.
                code = "CANCELLED" if streaming else "CANCELLED_OR_ABORTED"
                raise
            except grpc.aio.AbortError:
                code = "CANCELLED_OR_ABORTED"
                raise
            except DATABASE_TROUBLE as error:
                # Not the request's fault, and over once PostgreSQL answers again: retryable.
                code = "UNAVAILABLE"
                report_failure(log, method, error)
                await _abort(context, status_for(errors.Unavailable(
                    "the database is unavailable; try again shortly", errors.DATABASE_UNAVAILABLE)))
            except Exception:
                code = "INTERNAL"
                log.exception("unhandled error in %s", method)
                trace_id = logs.trace_id_var.get()
                await _abort(context, _rich_status(code_pb2.INTERNAL, f"internal error; trace id {trace_id}",
                                                  errors.INTERNAL, {"trace_id": trace_id}))
            finally:
                seconds = time.perf_counter() - started
                self._calls.answered(code)
                observe(code, seconds)
                tracing.step("rpc", method, code, started_at, seconds)
                level = logging.DEBUG if code in _QUIET_ENDS else logging.INFO
                if log.isEnabledFor(level):
                    log.log(level, "rpc %s %s", method, code,
                            extra=logs.fields(method=method, code=code, duration_ms=round(seconds * 1000, 2)))

        return serve

    async def _identify(self, metadata: dict) -> identity.Identity | None:
        header = metadata.get("authorization", "")
        if not header:
            return None
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise errors.Unauthenticated("authorization must be 'Bearer <access token>'", errors.TOKEN_INVALID)
        if self._verifier is None:
            raise errors.Unavailable("token verification is not configured")
        return await self._verifier.verify(token.strip())


async def _supervised(task: Callable[[], Awaitable[None]]) -> None:
    """Runs a background task for the server's life, restarting it (with a pause) if it fails."""
    pause = 1.0
    while True:
        try:
            await task()
            return
        except asyncio.CancelledError:
            raise
        except Exception as error:
            report_failure(log, f"background task failed; restarting it in {pause:.0f} s", error)
            await asyncio.sleep(pause)
            pause = min(pause * 2, 30.0)


def run(main: Callable[[], Awaitable[None]]) -> None:
    """Runs a service's main coroutine on uvloop (about a fifth more requests per core), on
    the core the mesh gave this instance if it gave one."""
    cores.pin_from_environment()
    uvloop.run(main())


class Microservice:
    def __init__(
        self, name: str, consul: Consul, bind_host: str, advertise_host: str, port: int = 0
    ):
        self.name = name
        self._consul = consul
        self._bind_host = bind_host
        self._advertise_host = advertise_host
        self._port = port
        self._rules: dict[str, Any] = {}
        self._service_names: list[str] = [reflection.SERVICE_NAME, health.SERVICE_NAME]
        self._services: list[tuple[Any, ServiceDescriptor]] = []
        self._background: list[Callable[[], Awaitable[None]]] = []
        self._on_stop: list[Callable[[], Awaitable[None]]] = []
        self.verifier: identity.TokenVerifier | None = None
        # Registered with each instance in Consul (e.g. where its metrics are served).
        self.meta: dict[str, str] = {}
        self.calls = CallCounts()
        # How many server-streaming calls (watches) the instance serves at once.
        self.most_streams: Callable[[], int] = lambda: DEFAULT_MOST_STREAMS
        self.registration_check_seconds = 10.0
        # Set when the instance begins to stop (what holds a call open, a watch, ends then).
        self.stopping = asyncio.Event()

    def add_service(self, servicer: Any, descriptor: ServiceDescriptor, rules: identity.AccessRules) -> None:
        missing = [m.name for m in descriptor.methods if m.name not in rules]
        unknown = set(rules) - {m.name for m in descriptor.methods}
        if missing or unknown:
            raise ValueError(
                f"{descriptor.full_name}: access rules missing for {missing}, unknown {sorted(unknown)}"
            )
        for method_name, rule in rules.items():
            self._rules[f"/{descriptor.full_name}/{method_name}"] = rule
        self._service_names.append(descriptor.full_name)
        self._services.append((servicer, descriptor))

    def add_background(self, task: Callable[[], Awaitable[None]]) -> None:
        """A coroutine function that runs for the server's life (it is cancelled on stop)."""
        self._background.append(task)

    def on_stop(self, close: Callable[[], Awaitable[None]]) -> None:
        self._on_stop.append(close)

    async def run(self) -> None:
        server = grpc.aio.server(
            # Throughput: gRPC batches the frames of many streams into fewer writes, and Envoy
            # multiplexes every caller onto a connection or two (a bare grpc.aio server took
            # 2-23 % less CPU per call in each of five alternating runs).
            options=[("grpc.so_reuseport", 0), ("grpc.optimization_target", "throughput"),
                     # Above the edge's header limit (16 KiB, refused there with 431): a request
                     # the edge let through is never refused here for its size, at random.
                     ("grpc.max_metadata_size", 32 * 1024), ("grpc.absolute_max_metadata_size", 32 * 1024)],
        )
        policy = _CallPolicy(self._rules, self.verifier, self.calls, lambda: self.most_streams())
        for servicer, descriptor in self._services:
            handlers = policy.handlers(servicer, descriptor)
            server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(descriptor.full_name, handlers),))
            server.add_registered_method_handlers(descriptor.full_name, handlers)
        health_servicer = health.aio.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
        reflection.enable_server_reflection(self._service_names, server)
        port = server.add_insecure_port(f"{self._bind_host}:{self._port}")
        await server.start()
        for service_name in self._service_names[2:]:
            await health_servicer.set(service_name, health_pb2.HealthCheckResponse.SERVING)
        await health_servicer.set("", health_pb2.HealthCheckResponse.SERVING)

        instance_id = f"{self.name}-{socket.gethostname()}-{port}"
        tasks = [asyncio.create_task(_supervised(task)) for task in self._background]
        await self._consul.register(self.name, instance_id, self._advertise_host, port, meta=self.meta)
        keeper = asyncio.create_task(self._stay_registered(instance_id, port))
        log.info("serving %s on %s:%d as %s (cores %s)", self.name, self._advertise_host, port, instance_id,
                 ",".join(str(core) for core in sorted(os.sched_getaffinity(0))))

        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, self.stop)
        await self.stopping.wait()

        log.info("stopping %s", instance_id)
        # First, or it would put back the registration being taken away.
        keeper.cancel()
        await asyncio.gather(keeper, return_exceptions=True)
        await health_servicer.enter_graceful_shutdown()
        try:
            await self._consul.deregister(instance_id)
        except Exception as error:
            log.warning("could not deregister %s: %s", instance_id, error)
        # Give the edge a moment to drop this instance before refusing new calls.
        await asyncio.sleep(0.5)
        await server.stop(grace=5)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for close in reversed(self._on_stop):
            await close()
        log.info("stopped %s", instance_id)

    def stop(self) -> None:
        """Asks run() to stop gracefully, as SIGTERM does."""
        self.stopping.set()

    async def _stay_registered(self, instance_id: str, port: int) -> None:
        """Registers again if Consul lost this instance (e.g. a restarted dev agent)."""
        while True:
            await asyncio.sleep(self.registration_check_seconds)
            try:
                if not await self._consul.is_registered(instance_id):
                    log.warning("consul lost %s; registering again", instance_id)
                    await self._consul.register(self.name, instance_id, self._advertise_host, port, meta=self.meta)
            except Exception as error:
                log.warning("consul check of %s failed: %s", instance_id, error)
