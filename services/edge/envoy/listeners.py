"""The edge's two listeners: the clients' one, and the internal one the cache fills itself from.
Each is an HTTP connection manager: its routes, its local replies and its chain of HTTP filters."""
import pathlib

from .. import strict_json
from . import FILTERS
from .access_log import access_log
from .cache import cache_filter
from .cors import cors_filter, cors_policy
from .grpc_web import grpc_web_filter
from .jwt_authn import jwt_filter
from .local_replies import local_replies
from .rate_limit import STRICT_LIMIT_FILTER, rate_limit_filter
from .rest_answer import rest_answer_filter
from .routes import API_LISTENER, routes, service_routes
from .transcoder import transcoder

HCM = f"{FILTERS}.network.http_connection_manager.v3.HttpConnectionManager"
# A client's headers, the request line's path and query included. The services take up to 32 KiB
# of metadata (kit.server), Envoy's own headers included.
MAX_REQUEST_HEADERS_KB = 16
AS_SENT_REQUEST_ID = {"typed_config": {
    "@type": "type.googleapis.com/envoy.extensions.request_id.uuid.v3.UuidRequestIdConfig",
    "pack_trace_reason": False,
}}


def _grpc_services(services: dict[str, list[str]]) -> list[str]:
    return [name for names in services.values() for name in names]


def _router() -> dict:
    return {"name": "envoy.filters.http.router", "typed_config": {"@type": f"{FILTERS}.http.router.v3.Router"}}


def _filter_chains(connection_manager: dict) -> list[dict]:
    """A listener's filter chains: the HTTP connection manager alone."""
    return [{"filters": [
        {"name": "envoy.filters.network.http_connection_manager", "typed_config": connection_manager}
    ]}]


def edge_listener(services: dict[str, list[str]], settings: dict, run_dir: pathlib.Path) -> dict:
    envoy_dir = run_dir / "envoy"
    connection_manager = {
        "@type": HCM,
        "stat_prefix": "edge",
        "codec_type": "AUTO",
        "generate_request_id": True,
        "always_set_request_id_in_response": True,
        # One spelling of every path for every filter and route: "//auth//login" is "/auth/login".
        "merge_slashes": True,
        "normalize_path": True,
        # Headers (the URL's path and query among them) past this are refused with 431 here:
        # the services' own limit is higher, so no request reaches them only to be refused.
        "max_request_headers_kb": MAX_REQUEST_HEADERS_KB,
        # Clients connect straight to the edge: the access log names the connection's address,
        # never an X-Forwarded-For a client made up.
        "use_remote_address": True,
        # A client's own X-Request-Id stays the trace id, so it can find its calls in the logs,
        # as sent: Envoy would otherwise write its tracing decision into one of its characters.
        "preserve_external_request_id": True,
        "request_id_extension": AS_SENT_REQUEST_ID,
        "access_log": access_log(run_dir, settings["trace_percent"]),
        "local_reply_config": local_replies(),
        "route_config": {
            "name": "edge",
            # The OpenAPI document is a direct response (4 KiB at most by default).
            "max_direct_response_body_size_bytes": 8 * 1024 * 1024,
            "virtual_hosts": [{
                "name": "edge", "domains": ["*"], "routes": routes(services, settings),
                "typed_per_filter_config": cors_policy(settings),
            }],
            # The API reads no cookies: a browser's are nobody's business behind the edge.
            "request_headers_to_remove": ["cookie"],
        },
        "http_filters": [
            # First: an abusive client is refused before any work on its request, answers from
            # the cache included.
            rate_limit_filter(),
            # Encodes an answer after every filter but the rate limit: it sees the transcoder's
            # finished one.
            rest_answer_filter(),
            # Every filter after it sees a gRPC-web call as a native gRPC one, and answers one
            # (its refusals included), which it turns back into gRPC-web.
            grpc_web_filter(),
            strict_json.lua_filter(envoy_dir / "descriptors.binpb", settings["cors_origins"], settings["cors_localhost"]),
            # Before the cache, so that its answers carry the permission too (every path has a
            # route here, see routes.py).
            cors_filter(),
            cache_filter(settings, envoy_dir),
            transcoder(envoy_dir, _grpc_services(services)),
            # After the transcoder: register and login counted by method, however they came.
            rate_limit_filter(STRICT_LIMIT_FILTER, "strict_rate_limit"),
            jwt_filter(settings, run_dir),
            _router(),
        ],
    }
    return {
        "name": "edge",
        "address": {"socket_address": {
            "address": settings["listener"]["address"], "port_value": settings["listener"]["port"]}},
        "filter_chains": _filter_chains(connection_manager),
    }


def api_listener(services: dict[str, list[str]], settings: dict, run_dir: pathlib.Path) -> dict:
    """The internal listener the cache filter fills itself from. Envoy sends a request the cache
    may answer past the rest of the edge's filters, straight to the route's cluster: this
    listener transcodes and checks the token for it, as the edge does for every other call.
    Rate limits and the access log stay with the edge, which sees the client."""
    connection_manager = {
        "@type": HCM,
        "stat_prefix": API_LISTENER,
        # The edge's request id, for the services' logs.
        "preserve_external_request_id": True,
        "request_id_extension": AS_SENT_REQUEST_ID,
        "local_reply_config": local_replies(),
        "route_config": {"name": API_LISTENER, "virtual_hosts": [{
            "name": API_LISTENER, "domains": ["*"],
            "routes": service_routes(services, settings["route_timeout_seconds"], {}),
        }]},
        "http_filters": [
            transcoder(run_dir / "envoy", _grpc_services(services)),
            jwt_filter(settings, run_dir),
            _router(),
        ],
    }
    return {"name": API_LISTENER, "internal_listener": {}, "filter_chains": _filter_chains(connection_manager)}
