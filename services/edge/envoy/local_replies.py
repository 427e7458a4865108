"""Envoy's own refusals (bad JSON or query parameters from the transcoder, no token, rate
limited, no healthy upstream, ...) answered as the services answer: to a REST caller a
google.rpc.Status as JSON, with the gRPC code and a google.rpc.ErrorInfo whose reason says
what went wrong (proto/autosalon/ERRORS.md lists the edge's reasons with the services'); to a
gRPC caller the same status in grpc-status-details-bin, for the refusals a gRPC call meets
(no or a bad token, rate limited, no such method, no instance answering)."""
import base64

from google.protobuf import any_pb2
from google.rpc import error_details_pb2, status_pb2

from services.kit.errors import ERROR_DOMAIN

from .rest_or_grpc import NATIVE_GRPC, REST

ERROR_INFO = "type.googleapis.com/google.rpc.ErrorInfo"
GRPC_CODE_FOR_HTTP = {
    400: 3, 401: 16, 404: 5, 408: 4, 413: 3, 429: 8, 431: 3,
    500: 13, 502: 14, 503: 14, 504: 4,
}
# A 400 of Envoy's own is the transcoder's: a body or query parameter it could not read. A 401
# is jwt_authn's: a token that does not verify (a missing or expired one is told apart below).
REASON_FOR_HTTP = {
    400: "MALFORMED_REQUEST", 401: "TOKEN_INVALID", 404: "NOT_FOUND", 408: "REQUEST_TIMEOUT",
    413: "BODY_TOO_LARGE", 429: "RATE_LIMITED", 431: "HEADERS_TOO_LARGE", 500: "INTERNAL",
    502: "UNAVAILABLE", 503: "UNAVAILABLE", 504: "DEADLINE_EXCEEDED",
}
# jwt_authn's response code details for the token problems a client acts on differently:
# sign in (none was sent), or refresh (it expired).
TOKEN_PROBLEM_REASONS = {"Jwt_is_missing": "UNAUTHENTICATED", "Jwt_is_expired": "TOKEN_EXPIRED"}


def _status_is(http_code: int) -> dict:
    return {"status_code_filter": {"comparison": {
        "op": "EQ", "value": {"default_value": http_code, "runtime_key": f"edge.local_reply_{http_code}"}}}}


def _details_contain(text: str) -> dict:
    """The local reply's response code details contain `text` (jwt_authn names its refusal there)."""
    return {"extension_filter": {
        "name": "envoy.access_loggers.extension_filters.cel",
        "typed_config": {"@type": "type.googleapis.com/envoy.extensions.access_loggers.filters.cel.v3.ExpressionFilter",
                         "expression": f"response.code_details.contains('{text}')"}}}


def _as_status(grpc_code: int, reason: str, message: str = "%LOCAL_REPLY_BODY%",
               metadata: dict[str, str] | None = None) -> dict:
    error_info = {"@type": ERROR_INFO, "reason": reason, "domain": ERROR_DOMAIN}
    if metadata:
        error_info["metadata"] = metadata
    return {"json_format": {"code": grpc_code, "message": message, "details": [error_info]},
            "content_type": "application/json"}


def _grpc_only(filter_: dict) -> dict:
    return {"and_filter": {"filters": [filter_, NATIVE_GRPC]}}


# The gRPC code Envoy makes of the HTTP status of a local reply to a gRPC call (the rate limit
# says RESOURCE_EXHAUSTED itself).
GRPC_CODE_OF_REFUSAL = {401: 16, 404: 12, 429: 8, 503: 14}
# The fixed message of each: a gRPC client checks that grpc-status-details-bin repeats the call's
# code and message, so the message cannot be Envoy's own, which varies.
GRPC_MESSAGES = {
    "UNAUTHENTICATED": "no access token was sent: sign in",
    "TOKEN_EXPIRED": "the access token expired: refresh it or sign in again",
    "TOKEN_INVALID": "the access token does not verify: sign in again",
    "NOT_FOUND": "no API method answers this path",
    "RATE_LIMITED": "too many calls from this address: try again after Retry-After seconds",
    "UNAVAILABLE": "no instance of the service answers: retry",
}


def _as_grpc_status(http_code: int, reason: str) -> dict:
    """A mapper's rewrite of a gRPC refusal: the fixed message, and the status with its ErrorInfo."""
    grpc_code, message = GRPC_CODE_OF_REFUSAL[http_code], GRPC_MESSAGES[reason]
    detail = any_pb2.Any()
    detail.Pack(error_details_pb2.ErrorInfo(reason=reason, domain=ERROR_DOMAIN))
    status = status_pb2.Status(code=grpc_code, message=message, details=[detail])
    return {
        "body_format_override": {"text_format_source": {"inline_string": message}},
        "headers_to_add": [{"header": {"key": "grpc-status-details-bin",
                                       "value": base64.b64encode(status.SerializeToString()).decode().rstrip("=")},
                            "append_action": "OVERWRITE_IF_EXISTS_OR_ADD"}],
    }


def _rest_only(filter_: dict) -> dict:
    """A gRPC client reads the reply's text as grpc-message: only REST callers get JSON."""
    return {"and_filter": {"filters": [filter_, REST]}}


def _for_http(http_code: int) -> dict:
    """The body of a REST refusal with this HTTP code."""
    grpc_code, reason = GRPC_CODE_FOR_HTTP[http_code], REASON_FOR_HTTP[http_code]
    if http_code == 429:
        # How long until the bucket refills, as the rate limit's Retry-After header says.
        return _as_status(grpc_code, reason, metadata={"retry_after_seconds": "%RESP(RETRY-AFTER)%"})
    return _as_status(grpc_code, reason)


def local_replies() -> dict:
    # strict_json.lua marks its refusals, which carry their details already.
    strict_json = {"filter": {"metadata_filter": {"matcher": {
        "filter": "autosalon.strict_json", "path": [{"key": "refused"}], "value": {"bool_match": True}},
        "match_if_key_not_found": False}}}
    no_route = {
        "filter": _rest_only({"response_flag_filter": {"flags": ["NR"]}}),
        "body_format_override": _as_status(
            GRPC_CODE_FOR_HTTP[404], REASON_FOR_HTTP[404],
            "no API method answers %REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%"),
    }
    token_problems = [
        {"filter": _rest_only({"and_filter": {"filters": [_status_is(401), _details_contain(details)]}}),
         "body_format_override": _as_status(GRPC_CODE_FOR_HTTP[401], reason)}
        for details, reason in TOKEN_PROBLEM_REASONS.items()
    ]
    # jwt_authn answers 403 to a well-signed token for another audience; to this API that token
    # is no sign-in at all, as the services would say. No other filter here answers 403.
    wrong_audience = [
        {"filter": _rest_only(_status_is(403)), "status_code": 401, "body_format_override": _for_http(401)},
        {"filter": _grpc_only(_status_is(403)), "status_code": 401, **_as_grpc_status(401, REASON_FOR_HTTP[401])},
    ]
    grpc_token_problems = [
        {"filter": _grpc_only({"and_filter": {"filters": [_status_is(401), _details_contain(details)]}}),
         **_as_grpc_status(401, reason)}
        for details, reason in TOKEN_PROBLEM_REASONS.items()
    ]
    return {
        "mappers": [strict_json, no_route, *token_problems, *wrong_audience] + [
            {"filter": _rest_only(_status_is(http_code)), "body_format_override": _for_http(http_code)}
            for http_code in GRPC_CODE_FOR_HTTP
        ] + grpc_token_problems + [
            {"filter": _grpc_only(_status_is(http_code)), **_as_grpc_status(http_code, REASON_FOR_HTTP[http_code])}
            for http_code in GRPC_CODE_OF_REFUSAL
        ]
    }
