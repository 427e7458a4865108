"""The edge's routes, each with its rate limit, whether the cache may keep its answers and, for
a REST call, what becomes of the answer's headers: /health, each gRPC service's prefix to its
cluster (the strictly limited methods before it, with the strict budget as well; any other gRPC
path is UNIMPLEMENTED), and every REST path, before transcoding, to the API listener; the
OpenAPI document and the docs page are the edge's own answers."""
from .cache import CACHE_OFF
from .docs import docs_routes
from .rate_limit import STRICT_LIMIT_FILTER, per_address_limit
from .rest_answer import REST_ANSWER

# The internal listener (and its cluster) that fills the edge cache; see listeners.api_listener().
API_LISTENER = "edge_api"
# The server-streaming methods (watches), which hold their call open as long as the service
# lets them: no route timeout, and an idle one past the longest watch the services allow (their
# *_WATCH_SECONDS settings: an hour at most), instead of Envoy's 5 minutes.
STREAMING_METHODS = ("autosalon.payment.v1.PaymentService/WatchPayment", "autosalon.sales.v1.SalesService/WatchOrder")
STREAM_IDLE_SECONDS = 3660


def _route(match: dict, cluster: str, timeout: int, per_filter: dict) -> dict:
    return {
        "match": match,
        "route": {
            "cluster": cluster,
            "timeout": f"{timeout}s",
            # An instance that just went away: try another before answering 503. Only calls that
            # never reached a service are retried, so a write is never sent twice.
            "retry_policy": {
                "retry_on": "connect-failure,refused-stream,reset-before-request", "num_retries": 2,
                "retry_host_predicate": [{
                    "name": "envoy.retry_host_predicates.previous_hosts",
                    "typed_config": {"@type": "type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3"
                                              ".PreviousHostsPredicate"}}],
                "host_selection_retry_max_attempts": 3,
            },
        },
        **({"typed_per_filter_config": per_filter} if per_filter else {}),
    }


def _stream_route(method: str, cluster: str, per_filter: dict) -> dict:
    route = _route({"path": f"/{method}"}, cluster, 0, per_filter)
    route["route"]["idle_timeout"] = f"{STREAM_IDLE_SECONDS}s"
    return route


def routes(services: dict[str, list[str]], settings: dict) -> list[dict]:
    timeout = settings["route_timeout_seconds"]
    strict_cfg, default_cfg = settings["rate_limits"]["strict"], settings["rate_limits"]["default"]
    strict = per_address_limit("strict", strict_cfg["requests"], strict_cfg["per_seconds"], STRICT_LIMIT_FILTER)
    generous = per_address_limit("default", default_cfg["requests"], default_cfg["per_seconds"])
    table = [
        {
            "match": {"path": "/health"},
            "direct_response": {"status": 200, "body": {"inline_string": '{"status":"SERVING"}'}},
            "response_headers_to_add": [
                {"header": {"key": "content-type", "value": "application/json"}}
            ],
            "typed_per_filter_config": CACHE_OFF,
        },
        {
            # The API's OpenAPI document (services/edge/openapi.py), as render wrote it.
            "match": {"path": "/openapi.json"},
            "direct_response": {"status": 200, "body": {"filename": settings["openapi_file"]}},
            "response_headers_to_add": [
                {"header": {"key": "content-type", "value": "application/json"}}
            ],
            "typed_per_filter_config": {**generous, **CACHE_OFF},
        },
        *docs_routes(settings["docs_dir"], generous),
    ]
    strict_methods = set(strict_cfg["methods"])
    for cluster, full_names in sorted(services.items()):
        for method in sorted(m for m in strict_methods if m.split("/")[0] in full_names):
            table.append(_route({"path": f"/{method}"}, cluster, timeout, {**generous, **strict, **CACHE_OFF}))
        for method in sorted(m for m in STREAMING_METHODS if m.split("/")[0] in full_names):
            table.append(_stream_route(method, cluster, {**generous, **CACHE_OFF}))
    to_api_listener = {"cluster": API_LISTENER, "timeout": f"{timeout}s"}
    table += service_routes(services, timeout, {**generous, **CACHE_OFF})
    # A gRPC call (native or gRPC-web: the route is chosen before the grpc_web filter turns one
    # into the other) to a method no service has, monitoring's OTLP intake among them, which only
    # Envoy itself may call: UNIMPLEMENTED, as a gRPC server would answer.
    grpc_content = {"name": "content-type", "string_match": {"prefix": "application/grpc"}}
    table.append({"match": {"prefix": "/", "headers": [grpc_content]},
                  "direct_response": {"status": 404, "body": {"inline_string": "no such method at the edge"}},
                  "typed_per_filter_config": {**generous, **CACHE_OFF}})
    # Before the transcoder a REST path matches none of the above. These last routes give it
    # one, so that the CORS filter finds its policy and the cache filter knows what it may keep.
    # Where the transcoder turns the call into a gRPC one it is routed again, above; what stays
    # here goes to the API listener, which fills the cache or answers 404 for an unknown path.
    # The rate limit is counted here too, on the client's first route: for a REST call, one of these;
    # so is what becomes of the answer's headers (REST_ANSWER).
    table += [{"match": {"prefix": prefix}, "route": to_api_listener,
               "typed_per_filter_config": {**generous, **REST_ANSWER}}
              for prefix in settings["public_cache"]["path_prefixes"]]
    table.append({"match": {"prefix": "/"}, "route": to_api_listener,
                  "typed_per_filter_config": {**generous, **CACHE_OFF, **REST_ANSWER}})
    return table


def service_routes(services: dict[str, list[str]], timeout: int, per_filter: dict) -> list[dict]:
    """Each gRPC service's prefix, to its cluster."""
    return [_route({"prefix": f"/{full_name}/"}, cluster, timeout, per_filter)
            for cluster, full_names in sorted(services.items()) for full_name in full_names]
