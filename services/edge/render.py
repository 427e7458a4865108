"""Renders Envoy's bootstrap for the edge from the protos' descriptor set and envoy/edge.yaml.

Every gRPC service in a package `autosalon.<name>.v1` becomes a cluster `<name>` (its Consul
service name) whose endpoints come from `<run>/envoy/eds/<name>.yaml`, kept current by
eds_sync; REST routes come from the google.api.http annotations through the transcoder.

Environment overrides: AUTOSALON_EDGE_ADDRESS / AUTOSALON_EDGE_PORT, AUTOSALON_ENVOY_ADMIN_ADDRESS /
AUTOSALON_ENVOY_ADMIN_PORT,
AUTOSALON_EDGE_STRICT_REQUESTS / AUTOSALON_EDGE_STRICT_SECONDS (login and register, per client
address), AUTOSALON_EDGE_DEFAULT_REQUESTS / AUTOSALON_EDGE_DEFAULT_SECONDS (everything else),
AUTOSALON_EDGE_CORS_ORIGINS (the browser origins allowed to call the API, comma-separated).
"""
import argparse
import json
import os
import pathlib
import shutil

import yaml
from google.protobuf import descriptor_pb2

from . import strict_json
from .api import Api

FILTERS = "type.googleapis.com/envoy.extensions.filters"
HCM = f"{FILTERS}.network.http_connection_manager.v3.HttpConnectionManager"
RATE_LIMIT = f"{FILTERS}.http.local_ratelimit.v3.LocalRateLimit"
# First of all the edge's filters: an abusive client is refused before any work on its request,
# answers from the cache included. Its budget is the route's (routes()).
RATE_LIMIT_FILTER = "envoy.filters.http.local_ratelimit"
CACHE_FILTER = "envoy.filters.http.cache"
# The cache is on only for the routes of the public paths (see routes()).
CACHE_OFF = {CACHE_FILTER: {"@type": "type.googleapis.com/envoy.config.route.v3.FilterConfig", "disabled": True}}
# A REST answer is plain HTTP: the gRPC headers the transcoder leaves on it (its status went
# into the HTTP code and the JSON body) are taken off, last of all the edge's filters. The
# filter takes its route config from the client's first route, before any transcoding.
REST_ANSWER_FILTER = "envoy.filters.http.header_mutation"
HEADER_MUTATION = f"{FILTERS}.http.header_mutation.v3"
GRPC_ONLY_HEADERS = {"response_mutations": [
    {"remove": name} for name in ("grpc-status", "grpc-message", "grpc-accept-encoding", "grpc-encoding")]}
REST_ANSWER = {REST_ANSWER_FILTER: {"@type": f"{HEADER_MUTATION}.HeaderMutationPerRoute",
                                    "mutations": GRPC_ONLY_HEADERS}}
AS_SENT_REQUEST_ID = {"typed_config": {
    "@type": "type.googleapis.com/envoy.extensions.request_id.uuid.v3.UuidRequestIdConfig",
    "pack_trace_reason": False,
}}
# The internal listener (and its cluster) that fills the edge cache; see api_listener().
API_LISTENER = "edge_api"
ALWAYS = {"default_value": {"numerator": 100, "denominator": "HUNDRED"}}


def mesh_services(descriptors: pathlib.Path) -> dict[str, list[str]]:
    """Consul name -> full gRPC service names, for every autosalon.<name>.v1 package."""
    found: dict[str, list[str]] = {}
    file_set = descriptor_pb2.FileDescriptorSet.FromString(descriptors.read_bytes())
    for file in file_set.file:
        parts = file.package.split(".")
        if len(parts) == 3 and parts[0] == "autosalon" and parts[2] == "v1":
            for service in file.service:
                found.setdefault(parts[1], []).append(f"{file.package}.{service.name}")
    return found


def _settings(path: pathlib.Path) -> dict:
    settings = yaml.safe_load(path.read_text())
    env = os.environ.get
    settings["listener"]["address"] = env("AUTOSALON_EDGE_ADDRESS", settings["listener"]["address"])
    settings["listener"]["port"] = int(env("AUTOSALON_EDGE_PORT", settings["listener"]["port"]))
    settings["admin"]["address"] = env("AUTOSALON_ENVOY_ADMIN_ADDRESS", settings["admin"]["address"])
    settings["admin"]["port"] = int(env("AUTOSALON_ENVOY_ADMIN_PORT", settings["admin"]["port"]))
    for bucket in ("strict", "default"):
        limits = settings["rate_limits"][bucket]
        limits["requests"] = int(env(f"AUTOSALON_EDGE_{bucket.upper()}_REQUESTS", limits["requests"]))
        limits["per_seconds"] = int(env(f"AUTOSALON_EDGE_{bucket.upper()}_SECONDS", limits["per_seconds"]))
    origins = env("AUTOSALON_EDGE_CORS_ORIGINS", ",".join(settings["cors_origins"]))
    settings["cors_origins"] = [origin.strip() for origin in origins.split(",") if origin.strip()]
    return settings


def _per_address_limit(name: str, requests: int, seconds: int) -> dict:
    """A token bucket per client address (Envoy's dynamic descriptors, one bucket per value)."""
    bucket = {"max_tokens": requests, "tokens_per_fill": requests, "fill_interval": f"{seconds}s"}
    return {
        RATE_LIMIT_FILTER: {
            "@type": RATE_LIMIT,
            "stat_prefix": f"rate_limit_{name}",
            # The route-wide bucket only guards Envoy itself; the per-address one is the limit.
            "token_bucket": {"max_tokens": 1_000_000, "tokens_per_fill": 1_000_000, "fill_interval": "1s"},
            "filter_enabled": ALWAYS,
            "filter_enforced": ALWAYS,
            "max_dynamic_descriptors": 10_000,
            "rate_limits": [{"actions": [{"remote_address": {}}]}],
            "descriptors": [{"entries": [{"key": "remote_address"}], "token_bucket": bucket}],
            "rate_limited_as_resource_exhausted": True,
        }
    }


def _route(match: dict, cluster: str, timeout: int, per_filter: dict) -> dict:
    return {
        "match": match,
        "route": {
            "cluster": cluster,
            "timeout": f"{timeout}s",
            # An instance that just went away: try another before answering 503.
            "retry_policy": {"retry_on": "connect-failure,refused-stream,reset-before-request", "num_retries": 2},
        },
        **({"typed_per_filter_config": per_filter} if per_filter else {}),
    }


def strict_rest_paths(api: Api, methods: list[str]) -> list[str]:
    """The REST paths of the strictly limited methods (fixed paths: register, login)."""
    paths = []
    for method in api.methods:
        if method.full_name in methods:
            if method.bound:
                raise ValueError(f"{method.full_name}: a strictly limited method needs a fixed REST path, "
                                 f"not {method.template}")
            paths.append(method.template)
    return sorted(paths)


def routes(services: dict[str, list[str]], settings: dict) -> list[dict]:
    timeout = settings["route_timeout_seconds"]
    strict_cfg, default_cfg = settings["rate_limits"]["strict"], settings["rate_limits"]["default"]
    strict = _per_address_limit("strict", strict_cfg["requests"], strict_cfg["per_seconds"])
    generous = _per_address_limit("default", default_cfg["requests"], default_cfg["per_seconds"])
    table = [
        {
            "match": {"path": "/health"},
            "direct_response": {"status": 200, "body": {"inline_string": '{"status":"SERVING"}'}},
            "response_headers_to_add": [
                {"header": {"key": "content-type", "value": "application/json"}}
            ],
            "typed_per_filter_config": CACHE_OFF,
        }
    ]
    strict_methods = set(strict_cfg["methods"])
    for cluster, full_names in sorted(services.items()):
        for method in sorted(m for m in strict_methods if m.split("/")[0] in full_names):
            table.append(_route({"path": f"/{method}"}, cluster, timeout, {**strict, **CACHE_OFF}))
    to_api_listener = {"cluster": API_LISTENER, "timeout": f"{timeout}s"}
    # Their REST paths too, before the transcoder (which then routes the call again, above).
    table += [{"match": {"path": path}, "route": to_api_listener,
               "typed_per_filter_config": {**strict, **CACHE_OFF, **REST_ANSWER}}
              for path in strict_cfg["rest_paths"]]
    table += service_routes(services, timeout, {**generous, **CACHE_OFF})
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


def cors_policy(settings: dict) -> dict:
    """The CORS filter's policy: the answers to allowed origins carry their permission (the
    preflights themselves are answered by the Lua filter, as no route serves OPTIONS)."""
    if not settings["cors_origins"]:
        return {}
    return {"envoy.filters.http.cors": {
        "@type": f"{FILTERS}.http.cors.v3.CorsPolicy",
        "allow_origin_string_match": [{"exact": origin} for origin in settings["cors_origins"]],
        "allow_methods": strict_json.CORS_METHODS,
        "allow_headers": strict_json.CORS_HEADERS,
        "expose_headers": "x-request-id",
        "max_age": strict_json.CORS_MAX_AGE,
    }}


def jwt_filter(settings: dict, run_dir: pathlib.Path) -> dict:
    jwt = settings["jwt"]
    rules = [{"match": {"path": f"/{method}"}} for method in settings["public_methods"]]
    rules.append({"match": {"path": "/health"}})
    # Every API method is routed under its gRPC path (REST paths are rewritten to it first), so a
    # path outside the API is answered 404 whether or not a token came with it.
    rules.append({"match": {"prefix": "/autosalon."}, "requires": {"provider_name": "autosalon"}})
    return {
        "name": "envoy.filters.http.jwt_authn",
        "typed_config": {
            "@type": f"{FILTERS}.http.jwt_authn.v3.JwtAuthentication",
            "providers": {
                "autosalon": {
                    "issuer": jwt["issuer"],
                    "audiences": [jwt["audience"]],
                    "local_jwks": {"filename": str(run_dir / jwt["jwks_file"])},
                    # The services verify the token again and read the identity from it.
                    "forward": True,
                    "from_headers": [{"name": "authorization", "value_prefix": "Bearer "}],
                    # A token verified once is not verified again until it expires.
                    "jwt_cache_config": {"jwt_cache_size": 10000},
                }
            },
            "rules": rules,
        },
    }


# A native gRPC call: gRPC's content type, and not a REST call the transcoder turned into one.
NATIVE_GRPC = {"and_filter": {"filters": [
    {"header_filter": {"header": {"name": "content-type", "string_match": {"prefix": "application/grpc"}}}},
    {"header_filter": {"header": {"name": "x-envoy-original-method", "present_match": False}}},
]}}
REST = {"or_filter": {"filters": [
    {"header_filter": {"header": {"name": "content-type", "string_match": {"prefix": "application/grpc"},
                                  "invert_match": True, "treat_missing_header_as_empty": True}}},
    {"header_filter": {"header": {"name": "x-envoy-original-method", "present_match": True}}},
]}}


# Envoy's own refusals (bad JSON or query parameters from the transcoder, no token, rate
# limited, no healthy upstream, ...) answered as the services answer: a google.rpc.Status as
# JSON, with the gRPC code.
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


ACCESS_LOG_FORMAT = {
    "time": "%START_TIME%",
    "trace_id": "%REQ(X-REQUEST-ID)%",
    "client": "%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%",
    # As the client sent it: the transcoder turns every REST call into a gRPC POST, noting the
    # method it had.
    "method": "%REQ(X-ENVOY-ORIGINAL-METHOD?:METHOD)%",
    "path": "%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%",
    "grpc_path": "%REQ(:PATH)%",
    "protocol": "%PROTOCOL%",
    "status": "%RESPONSE_CODE%",
    "grpc_status": "%GRPC_STATUS(SNAKE_STRING)%",
    "flags": "%RESPONSE_FLAGS%",
    "details": "%RESPONSE_CODE_DETAILS%",
    "duration_ms": "%DURATION%",
    "upstream": "%UPSTREAM_HOST%",
    "bytes_in": "%BYTES_RECEIVED%",
    "bytes_out": "%BYTES_SENT%",
    # Seconds the answer had been in the edge cache; null when a service answered.
    "cache_age": "%RESP(AGE)%",
}


def access_log_path(run_dir: pathlib.Path) -> pathlib.Path:
    return run_dir / "logs" / "edge-access.log"


def transcoder(envoy_dir: pathlib.Path, all_services: list[str]) -> dict:
    return {
        "name": "envoy.filters.http.grpc_json_transcoder",
        "typed_config": {
            "@type": f"{FILTERS}.http.grpc_json_transcoder.v3.GrpcJsonTranscoder",
            "proto_descriptor": str(envoy_dir / "descriptors.binpb"),
            "services": all_services,
            "convert_grpc_status": True,
            # Browsers and form encoders send spaces in query strings as '+'.
            "query_param_unescape_plus": True,
            "print_options": {
                "preserve_proto_field_names": True,
                "always_print_primitive_fields": True,
                "always_print_enums_as_ints": False,
            },
            "request_validation_options": {
                "reject_unknown_method": False,
                "reject_unknown_query_parameters": True,
            },
        },
    }


def cache_filter(settings: dict, envoy_dir: pathlib.Path) -> dict:
    """Keeps the answers to anonymous GETs that the service marked public, for as long as it
    said (Cache-Control), on disk and bounded in size and count. Only the routes of the public
    paths leave it on (routes())."""
    cache = settings["public_cache"]
    return {
        "name": CACHE_FILTER,
        "typed_config": {
            "@type": f"{FILTERS}.http.cache.v3.CacheConfig",
            "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.http.cache."
                         "file_system_http_cache.v3.FileSystemHttpCacheConfig",
                "manager_config": {"thread_pool": {"thread_count": 1}},
                "cache_path": str(envoy_dir / "cache"),
                "max_cache_size_bytes": cache["max_megabytes"] * 1024 * 1024,
                "max_cache_entry_count": cache["max_entries"],
                "max_individual_cache_entry_size_bytes": cache["max_entry_kilobytes"] * 1024,
            },
        },
    }


def _access_log(run_dir: pathlib.Path) -> list[dict]:
    """One file, a line a request. Only native gRPC calls carry `grpc_status`: for a REST
    answer Envoy would infer one from the HTTP code, and a 400 would read as INTERNAL."""
    rest_format = {name: value for name, value in ACCESS_LOG_FORMAT.items() if name != "grpc_status"}
    # Straight to its own file: through supervisord's pipe, every request cost a Python wakeup.
    return [{
        "name": "envoy.access_loggers.file",
        "filter": which,
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog",
            "path": str(access_log_path(run_dir)),
            "log_format": {"json_format": log_format},
        },
    } for which, log_format in ((NATIVE_GRPC, ACCESS_LOG_FORMAT), (REST, rest_format))]


def api_listener(services: dict[str, list[str]], settings: dict, run_dir: pathlib.Path) -> dict:
    """The internal listener the cache filter fills itself from. Envoy sends a request the cache
    may answer past the rest of the edge's filters, straight to the route's cluster: this
    listener transcodes and checks the token for it, as the edge does for every other call.
    Rate limits and the access log stay with the edge, which sees the client."""
    envoy_dir = run_dir / "envoy"
    all_services = [name for names in services.values() for name in names]
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
            transcoder(envoy_dir, all_services),
            jwt_filter(settings, run_dir),
            {"name": "envoy.filters.http.router",
             "typed_config": {"@type": f"{FILTERS}.http.router.v3.Router"}},
        ],
    }
    return {
        "name": API_LISTENER,
        "internal_listener": {},
        "filter_chains": [{"filters": [
            {"name": "envoy.filters.network.http_connection_manager", "typed_config": connection_manager}
        ]}],
    }


def bootstrap(services: dict[str, list[str]], settings: dict, run_dir: pathlib.Path) -> dict:
    envoy_dir = run_dir / "envoy"
    all_services = [name for names in services.values() for name in names]
    connection_manager = {
        "@type": HCM,
        "stat_prefix": "edge",
        "codec_type": "AUTO",
        "generate_request_id": True,
        "always_set_request_id_in_response": True,
        # Clients connect straight to the edge: the access log names the connection's address,
        # never an X-Forwarded-For a client made up.
        "use_remote_address": True,
        # A client's own X-Request-Id stays the trace id, so it can find its calls in the logs,
        # as sent: Envoy would otherwise write its tracing decision into one of its characters.
        "preserve_external_request_id": True,
        "request_id_extension": AS_SENT_REQUEST_ID,
        "access_log": _access_log(run_dir),
        "local_reply_config": local_replies(),
        "route_config": {
            "name": "edge",
            "virtual_hosts": [{
                "name": "edge", "domains": ["*"], "routes": routes(services, settings),
                "typed_per_filter_config": cors_policy(settings),
            }],
        },
        "http_filters": [
            {"name": RATE_LIMIT_FILTER, "typed_config": {"@type": RATE_LIMIT, "stat_prefix": "rate_limit"}},
            # Acts on the REST routes only (REST_ANSWER, in routes()).
            {"name": REST_ANSWER_FILTER, "typed_config": {"@type": f"{HEADER_MUTATION}.HeaderMutation"}},
            strict_json.lua_filter(envoy_dir / "descriptors.binpb", settings["cors_origins"]),
            # Before the cache, so that its answers carry the permission too (every path has a
            # route here, see routes()).
            {"name": "envoy.filters.http.cors",
             "typed_config": {"@type": f"{FILTERS}.http.cors.v3.Cors"}},
            cache_filter(settings, envoy_dir),
            transcoder(envoy_dir, all_services),
            jwt_filter(settings, run_dir),
            {"name": "envoy.filters.http.router",
             "typed_config": {"@type": f"{FILTERS}.http.router.v3.Router"}},
        ],
    }
    clusters = [
        {
            "name": cluster,
            "type": "EDS",
            "connect_timeout": "1s",
            "lb_policy": "ROUND_ROBIN",
            "typed_extension_protocol_options": {
                "envoy.extensions.upstreams.http.v3.HttpProtocolOptions": {
                    "@type": "type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions",
                    "explicit_http_config": {"http2_protocol_options": {}},
                }
            },
            "eds_cluster_config": {
                "eds_config": {
                    "path_config_source": {
                        "path": str(envoy_dir / "eds" / f"{cluster}.yaml"),
                        "watched_directory": {"path": str(envoy_dir / "eds")},
                    },
                    "resource_api_version": "V3",
                }
            },
        }
        for cluster in sorted(services)
    ]
    clusters.append({
        "name": API_LISTENER,
        "connect_timeout": "1s",
        "load_assignment": {"cluster_name": API_LISTENER, "endpoints": [{"lb_endpoints": [
            {"endpoint": {"address": {"envoy_internal_address": {"server_listener_name": API_LISTENER}}}}
        ]}]},
    })
    return {
        "node": {"id": "autosalon-edge", "cluster": "autosalon-edge"},
        "admin": {"address": {"socket_address": {
            "address": settings["admin"]["address"], "port_value": settings["admin"]["port"]}}},
        "static_resources": {
            "listeners": [{
                "name": "edge",
                "address": {"socket_address": {
                    "address": settings["listener"]["address"], "port_value": settings["listener"]["port"]}},
                "filter_chains": [{"filters": [
                    {"name": "envoy.filters.network.http_connection_manager", "typed_config": connection_manager}
                ]}],
            }, api_listener(services, settings, run_dir)],
            "clusters": clusters,
        },
        "bootstrap_extensions": [{
            "name": "envoy.bootstrap.internal_listener",
            "typed_config": {"@type": "type.googleapis.com/envoy.extensions.bootstrap."
                                      "internal_listener.v3.InternalListener"},
        }],
        # A flood of idle connections must not take Envoy's file descriptors and memory.
        "overload_manager": {"resource_monitors": [{
            "name": "envoy.resource_monitors.global_downstream_max_connections",
            "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.resource_monitors."
                         "downstream_connections.v3.DownstreamConnectionsConfig",
                "max_active_downstream_connections": settings["max_downstream_connections"],
            },
        }]},
    }


def endpoints(cluster: str, targets: list[tuple[str, int]]) -> dict:
    """An EDS resource (ClusterLoadAssignment) for the file eds_sync keeps current."""
    return {
        "resources": [{
            "@type": "type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment",
            "cluster_name": cluster,
            "endpoints": [{"lb_endpoints": [
                {"endpoint": {"address": {"socket_address": {"address": host, "port_value": port}}}}
                for host, port in targets
            ]}],
        }]
    }


def write_atomically(path: pathlib.Path, text: str) -> None:
    """Envoy watches the folder: it must only ever see whole files."""
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(text)
    os.rename(partial, path)


def render(descriptors: pathlib.Path, settings_file: pathlib.Path, run_dir: pathlib.Path) -> pathlib.Path:
    services = mesh_services(descriptors)
    settings = _settings(settings_file)
    strict = settings["rate_limits"]["strict"]
    strict["rest_paths"] = strict_rest_paths(Api.load(descriptors.read_bytes()), strict["methods"])
    envoy_dir = run_dir / "envoy"
    (envoy_dir / "eds").mkdir(parents=True, exist_ok=True)
    (run_dir / "logs").mkdir(parents=True, exist_ok=True)
    (envoy_dir / "cache").mkdir(exist_ok=True)
    # Envoy reads its own copy, so regenerating code never changes a running edge underneath it.
    shutil.copyfile(descriptors, envoy_dir / "descriptors.binpb")
    for cluster in services:
        eds_file = envoy_dir / "eds" / f"{cluster}.yaml"
        if not eds_file.exists():
            write_atomically(eds_file, yaml.safe_dump(endpoints(cluster, [])))
    write_atomically(envoy_dir / "clusters.json", json.dumps(sorted(services)))
    write_atomically(envoy_dir / "limits.json", json.dumps(settings["rate_limits"], indent=2))
    rotation = {
        "path": str(access_log_path(run_dir)),
        "max_bytes": settings["access_log"]["max_megabytes"] * 1024 * 1024,
        "backups": settings["access_log"]["backups"],
        "admin_url": f"http://{settings['admin']['address']}:{settings['admin']['port']}",
    }
    write_atomically(envoy_dir / "access_log.json", json.dumps(rotation, indent=2))
    output = envoy_dir / "envoy.yaml"
    write_atomically(output, yaml.safe_dump(bootstrap(services, settings, run_dir), sort_keys=False))
    return output


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--descriptors", type=pathlib.Path, required=True)
    parser.add_argument("--settings", type=pathlib.Path, required=True)
    parser.add_argument("--run-dir", type=pathlib.Path, required=True)
    args = parser.parse_args()
    print(render(args.descriptors, args.settings, args.run_dir.resolve()))


if __name__ == "__main__":
    main()
