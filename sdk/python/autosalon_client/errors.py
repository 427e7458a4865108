"""The exceptions a refused call raises: one class a gRPC status code, all of them
`AutosalonError`, each carrying what the status's details say.

- `reason`: the stable, machine-readable word of the status's google.rpc.ErrorInfo
  (`VEHICLE_NOT_AVAILABLE`, `TOKEN_EXPIRED`, ...; the API's proto/autosalon/ERRORS.md lists them),
  or None when the status has none; `metadata`: that ErrorInfo's metadata (what the reason is
  about), empty when absent.
- `violations`: the fields a google.rpc.BadRequest names (mostly on `InvalidArgument`), each with
  its description and its own reason (None when absent).
- `retry_after`: seconds to wait before calling again (google.rpc.RetryInfo, or a `retry-after`
  header), on `RateLimited` mostly; None when not said.
- `request_id`: the edge's `x-request-id` for the call, to quote when asking for help.

A code without a class of its own (CANCELLED, UNKNOWN, DATA_LOSS, ...) raises `AutosalonError`.
"""
from __future__ import annotations

from dataclasses import dataclass

import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status


@dataclass(frozen=True)
class FieldViolation:
    """One field's problem, as google.rpc.BadRequest names it."""
    field: str
    description: str
    reason: str | None = None


class AutosalonError(Exception):
    """A call the API refused or could not answer."""

    def __init__(self, code: grpc.StatusCode, message: str, *, reason: str | None = None,
                 metadata: dict[str, str] | None = None, violations: tuple[FieldViolation, ...] = (),
                 retry_after: float | None = None, request_id: str | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.reason = reason
        self.metadata = metadata or {}
        self.violations = violations
        self.retry_after = retry_after
        self.request_id = request_id

    def __str__(self) -> str:
        text = f"{self.code.name}: {self.message}"
        if self.reason:
            text += f" [{self.reason}]"
        return "; ".join([text, *(f"{v.field}: {v.description}" for v in self.violations)])


class InvalidArgument(AutosalonError):
    """INVALID_ARGUMENT: the request is wrong; `violations` names every field at fault."""


class NotFound(AutosalonError):
    """NOT_FOUND: no such resource (or not one the caller may see)."""


class AlreadyExists(AutosalonError):
    """ALREADY_EXISTS: the resource exists already (an email taken, a model of that name)."""


class FailedPrecondition(AutosalonError):
    """FAILED_PRECONDITION: the resource is not in a state that allows the call."""


class Aborted(AutosalonError):
    """ABORTED: a concurrent change won (a stale `etag`); read again and retry."""


class PermissionDenied(AutosalonError):
    """PERMISSION_DENIED: the signed-in user may not do this."""


class Unauthenticated(AutosalonError):
    """UNAUTHENTICATED: no valid sign-in (wrong password, or tokens that no longer work)."""


class RateLimited(AutosalonError):
    """RESOURCE_EXHAUSTED: too many calls; wait (`retry_after` when said) and call again."""


class Unavailable(AutosalonError):
    """UNAVAILABLE: the API or a service behind it could not answer; reads were retried already."""


class DeadlineExceeded(AutosalonError):
    """DEADLINE_EXCEEDED: no answer within the call's deadline."""


class Unimplemented(AutosalonError):
    """UNIMPLEMENTED: the API has no such method (a client newer than the server)."""


class Internal(AutosalonError):
    """INTERNAL: the server failed; `request_id` helps its operators find out why."""


_CLASS_FOR_CODE: dict[grpc.StatusCode, type[AutosalonError]] = {
    grpc.StatusCode.INVALID_ARGUMENT: InvalidArgument,
    grpc.StatusCode.NOT_FOUND: NotFound,
    grpc.StatusCode.ALREADY_EXISTS: AlreadyExists,
    grpc.StatusCode.FAILED_PRECONDITION: FailedPrecondition,
    grpc.StatusCode.ABORTED: Aborted,
    grpc.StatusCode.PERMISSION_DENIED: PermissionDenied,
    grpc.StatusCode.UNAUTHENTICATED: Unauthenticated,
    grpc.StatusCode.RESOURCE_EXHAUSTED: RateLimited,
    grpc.StatusCode.UNAVAILABLE: Unavailable,
    grpc.StatusCode.DEADLINE_EXCEEDED: DeadlineExceeded,
    grpc.StatusCode.UNIMPLEMENTED: Unimplemented,
    grpc.StatusCode.INTERNAL: Internal,
}


def from_call(call: grpc.Call) -> AutosalonError:
    """The exception for a failed call (a grpc.RpcError that is a grpc.Call), read from its
    code, message, details and metadata."""
    found = {}
    for detail in _details(call):
        for kind in (error_details_pb2.ErrorInfo, error_details_pb2.BadRequest, error_details_pb2.RetryInfo):
            if detail.Is(kind.DESCRIPTOR):
                found[kind] = kind()
                detail.Unpack(found[kind])
    error_info = found.get(error_details_pb2.ErrorInfo, error_details_pb2.ErrorInfo())
    bad_request = found.get(error_details_pb2.BadRequest, error_details_pb2.BadRequest())
    retry_info = found.get(error_details_pb2.RetryInfo)
    headers = _headers(call)
    retry_after = (retry_info.retry_delay.ToTimedelta().total_seconds() if retry_info
                   else _seconds(headers.get("retry-after")))
    code = call.code()
    return _CLASS_FOR_CODE.get(code, AutosalonError)(
        code,
        call.details() or "",
        reason=error_info.reason or None,
        metadata=dict(error_info.metadata),
        violations=tuple(FieldViolation(v.field, v.description, v.reason or None)
                         for v in bad_request.field_violations),
        retry_after=retry_after,
        request_id=headers.get("x-request-id"),
    )


def _details(call: grpc.Call) -> list:
    """The status's details; none when the status is missing or does not match the call's."""
    try:
        status = rpc_status.from_call(call)
    except ValueError:
        return []
    return list(status.details) if status else []


def _headers(call: grpc.Call) -> dict[str, str]:
    """Text metadata of the answer, its trailers over its headers."""
    headers = {}
    for metadata in (call.initial_metadata(), call.trailing_metadata()):
        for key, value in metadata or ():
            if isinstance(value, str):
                headers[key] = value
    return headers


def _seconds(text: str | None) -> float | None:
    try:
        return float(text) if text else None
    except ValueError:
        return None
