"""Envoy's own refusals (bad JSON or query parameters from the transcoder, no token, rate
limited, no healthy upstream, ...) answered as the services answer: to a REST caller a
google.rpc.Status as JSON, with the gRPC code."""
from .rest_or_grpc import REST

GRPC_CODE_FOR_HTTP = {
    400: 3, 401: 16, 404: 5, 408: 4, 413: 3, 429: 8, 431: 3,
    500: 13, 502: 14, 503: 14, 504: 4,
}


def _status_is(http_code: int) -> dict:
    return {"status_code_filter": {"comparison": {
        "op": "EQ", "value": {"default_value": http_code, "runtime_key": f"edge.local_reply_{http_code}"}}}}


def _as_status(grpc_code: int, message: str = "%LOCAL_REPLY_BODY%") -> dict:
    return {"json_format": {"code": grpc_code, "message": message}, "content_type": "application/json"}


def _rest_only(filter_: dict) -> dict:
    """A gRPC client reads the reply's text as grpc-message: only REST callers get JSON."""
    return {"and_filter": {"filters": [filter_, REST]}}


def local_replies() -> dict:
    # strict_json.lua marks its refusals, which carry their field violations already.
    strict_json = {"filter": {"metadata_filter": {"matcher": {
        "filter": "autosalon.strict_json", "path": [{"key": "refused"}], "value": {"bool_match": True}},
        "match_if_key_not_found": False}}}
    no_route = {
        "filter": _rest_only({"response_flag_filter": {"flags": ["NR"]}}),
        "body_format_override": _as_status(
            GRPC_CODE_FOR_HTTP[404], "no API method answers %REQ(:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%"),
    }
    # jwt_authn answers 403 to a well-signed token for another audience; to this API that token
    # is no sign-in at all, as the services would say. No other filter here answers 403.
    wrong_audience = [
        {"filter": _rest_only(_status_is(403)), "status_code": 401,
         "body_format_override": _as_status(GRPC_CODE_FOR_HTTP[401])},
        {"filter": _status_is(403), "status_code": 401},
    ]
    return {
        "mappers": [strict_json, no_route, *wrong_audience] + [
            {"filter": _rest_only(_status_is(http_code)), "body_format_override": _as_status(grpc_code)}
            for http_code, grpc_code in GRPC_CODE_FOR_HTTP.items()
        ]
    }
