"""The edge's config, derived from the descriptor set: routes, rules, strict JSON schemas."""
import json
import re
import subprocess

import pytest
import yaml
from google.protobuf import descriptor_pb2

from scripts.mesh.layout import VENV_BIN
from scripts.mesh.tools import DESCRIPTORS, ensure_swagger_ui
from services.auth import tokens
from services.edge import render, strict_json
from services.edge.envoy.cache import CACHE_FILTER
from services.edge.envoy.cors import LOCALHOST_ORIGIN, cors_policy
from services.edge.envoy.rate_limit import RATE_LIMIT_FILTER, STRICT_LIMIT_FILTER
from services.edge.envoy.rest_answer import REST_ANSWER_FILTER
from services.edge.envoy.routes import API_LISTENER, STREAMING_METHODS
from services.kit.settings import REPO_ROOT


@pytest.mark.parametrize(
    "template, matches, misses",
    [
        ("/auth/register", ["/auth/register"], ["/auth/register/x", "/auth/registerx"]),
        ("/auth/{name=users/*}", ["/auth/users/42"], ["/auth/users/42/x", "/auth/users/"]),
        ("/sales/orders/{id}:confirm", ["/sales/orders/7:confirm"], ["/sales/orders/7"]),
        ("/files/{path=**}", ["/files/a/b/c"], ["/files/"]),
    ],
)
def test_path_templates_become_anchored_lua_patterns(template, matches, misses):
    pattern = strict_json.path_pattern(template)
    assert pattern.startswith("^") and pattern.endswith("$")
    # Lua's patterns for these shapes read the same as Python regexes once % escapes go.
    regex = re.compile(pattern.replace("%", "\\"))
    assert all(regex.match(path) for path in matches)
    assert not any(regex.match(path) for path in misses)


def test_schemas_cover_every_body_route_with_both_field_spellings():
    tables = strict_json.lua_tables(DESCRIPTORS)
    assert '{"POST", "^/auth/register$", ".autosalon.auth.v1.RegisterRequest"}' in tables
    assert '{"PATCH", "^/auth/users/[^/]+$", ".autosalon.auth.v1.User"}' in tables
    assert '["confirm_password"] = false' in tables and '["confirmPassword"] = false' in tables


@pytest.fixture
def rendered(tmp_path, monkeypatch):
    # With a web front end allowed, so that Envoy validates the CORS policy too.
    monkeypatch.setenv("AUTOSALON_EDGE_CORS_ORIGINS", "https://shop.example.ru")
    monkeypatch.setenv("AUTOSALON_EDGE_CORS_LOCALHOST", "true")
    (tmp_path / "keys").mkdir()
    pem, kid = tokens.generate_signing_key()
    (tmp_path / "keys" / "jwks.json").write_text(json.dumps(tokens.TokenSigner(pem, kid).jwks()))
    output = render.render(DESCRIPTORS, REPO_ROOT / "envoy" / "edge.yaml", tmp_path, ensure_swagger_ui())
    return output, yaml.safe_load(output.read_text())


def _manager(config: dict, listener: int = 0) -> dict:
    return config["static_resources"]["listeners"][listener]["filter_chains"][0]["filters"][0]["typed_config"]


def _to_services(manager: dict) -> list[dict]:
    return [route for route in manager["route_config"]["virtual_hosts"][0]["routes"]
            if "route" in route and route["route"]["cluster"] != API_LISTENER]


def test_clusters_and_routes_follow_the_protos(rendered):
    _, config = rendered
    clusters = {cluster["name"] for cluster in config["static_resources"]["clusters"]}
    assert clusters == set(render.mesh_services(DESCRIPTORS)) | {API_LISTENER}
    manager = _manager(config)
    routes = manager["route_config"]["virtual_hosts"][0]["routes"]
    matches = [route["match"] for route in routes]
    assert {"path": "/health"} in matches
    assert {"prefix": "/autosalon.auth.v1.AuthService/"} in matches
    # Login has its own strict bucket, matched before the service's generous prefix route.
    login = matches.index({"path": "/autosalon.auth.v1.AuthService/Login"})
    assert login < matches.index({"prefix": "/autosalon.auth.v1.AuthService/"})


def _filter(manager: dict, name: str) -> dict:
    return next(f for f in manager["http_filters"] if f["name"] == name)


def test_only_public_methods_skip_the_token(rendered):
    _, config = rendered
    manager = _manager(config)
    jwt = _filter(manager, "envoy.filters.http.jwt_authn")
    rules = jwt["typed_config"]["rules"]
    open_paths = {rule["match"].get("path") for rule in rules if "requires" not in rule}
    assert "/autosalon.auth.v1.AuthService/Login" in open_paths
    assert "/autosalon.auth.v1.AuthService/GetCurrentUser" not in open_paths
    assert rules[-1] == {"match": {"prefix": "/autosalon."}, "requires": {"provider_name": "autosalon"}}
    # That last rule covers every route that reaches a service: nothing is proxied elsewhere.
    api_listener = _manager(config, 1)
    for route in _to_services(manager) + _to_services(api_listener):
        path = route["match"].get("path") or route["match"]["prefix"]
        assert path.startswith("/autosalon."), route["match"]
    # The listener that fills the cache checks tokens by the same rules.
    assert _filter(api_listener, "envoy.filters.http.jwt_authn") == jwt


def test_envoy_accepts_the_config_without_warnings(rendered):
    output, _ = rendered
    result = subprocess.run(
        [VENV_BIN / "envoy", "--mode", "validate", "--log-level", "warn", "-c", output],
        capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "[warning]" not in result.stdout + result.stderr, (result.stdout + result.stderr)[-2000:]


def test_rate_limits_are_per_client_address_on_every_proxied_route(rendered):
    _, config = rendered
    manager = _manager(config)
    # Every route that proxies, REST paths before transcoding and the cache's included.
    for route in manager["route_config"]["virtual_hosts"][0]["routes"]:
        if "route" in route:
            limit = route["typed_per_filter_config"][RATE_LIMIT_FILTER]
            assert limit["rate_limits"] == [{"actions": [{"remote_address": {}}]}], route["match"]


def test_clients_are_counted_before_any_other_work(rendered):
    """The default budget is the first filter. Register, login and the account's password and
    address methods have the strict budget too, on their gRPC routes only, counted after the transcoder: a REST call spends it once
    transcoded, whatever the spelling of its path, and native gRPC spends the same bucket."""
    _, config = rendered
    manager = _manager(config)
    names = [f["name"] for f in manager["http_filters"]]
    assert names[0] == RATE_LIMIT_FILTER
    assert names.index(STRICT_LIMIT_FILTER) == names.index("envoy.filters.http.grpc_json_transcoder") + 1
    routes = manager["route_config"]["virtual_hosts"][0]["routes"]
    strict = {route["match"].get("path") for route in routes
              if STRICT_LIMIT_FILTER in route.get("typed_per_filter_config", {})}
    assert strict == {f"/autosalon.auth.v1.AuthService/{method}" for method in (
        "Login", "Register", "ChangePassword", "ChangeEmail", "SendVerificationEmail", "VerifyEmail",
        "RequestPasswordReset", "ResetPassword")}
    assert manager["merge_slashes"] and manager["normalize_path"]


def test_big_headers_are_refused_at_the_edge_and_cookies_stay_there(rendered):
    _, config = rendered
    manager = _manager(config)
    assert manager["max_request_headers_kb"] * 1024 < 32 * 1024, "below what the services take (kit.server)"
    assert manager["route_config"]["request_headers_to_remove"] == ["cookie"]


def test_the_cache_sees_rest_calls_and_keeps_only_the_public_paths(rendered):
    _, config = rendered
    manager = _manager(config)
    names = [f["name"] for f in manager["http_filters"]]
    # CORS before the cache (its answers need the permission too), the cache before the
    # transcoder (it keeps the JSON answers of REST GETs).
    assert names.index("envoy.filters.http.cors") < names.index(CACHE_FILTER) \
        < names.index("envoy.filters.http.grpc_json_transcoder")
    routes = manager["route_config"]["virtual_hosts"][0]["routes"]
    cached = [route for route in routes if CACHE_FILTER not in route.get("typed_per_filter_config", {})]
    assert [(route["match"], route["route"]) for route in cached] == [
        ({"prefix": "/catalog/"}, {"cluster": API_LISTENER, "timeout": "15s"})]
    # Every other path also has a route before transcoding, with the cache off.
    assert routes[-1]["match"] == {"prefix": "/"} and routes[-1]["route"]["cluster"] == API_LISTENER
    cache = _filter(manager, CACHE_FILTER)["typed_config"]["typed_config"]
    assert cache["max_cache_size_bytes"] > 0 and cache["max_cache_entry_count"] > 0


def test_the_api_listener_transcodes_and_answers_unknown_paths_with_404(rendered):
    _, config = rendered
    api_listener = _manager(config, 1)
    assert [f["name"] for f in api_listener["http_filters"]] == [
        "envoy.filters.http.grpc_json_transcoder", "envoy.filters.http.jwt_authn", "envoy.filters.http.router"]
    routes = api_listener["route_config"]["virtual_hosts"][0]["routes"]
    # No catch-all: a path that is no API method finds no route, the edge's usual 404.
    assert all(route["match"]["prefix"].startswith("/autosalon.") for route in routes)


def test_rest_answers_lose_the_grpc_headers_and_grpc_answers_keep_them(rendered):
    """A REST call's first route (before transcoding) takes the gRPC headers off its answer;
    the routes of native gRPC calls leave them, as gRPC clients read their status there."""
    _, config = rendered
    manager = _manager(config)
    mutation = _filter(manager, REST_ANSWER_FILTER)["typed_config"]
    assert "mutations" not in mutation  # nothing happens outside the REST routes
    # Encoded after every filter but the rate limit: it sees the transcoder's finished answer.
    assert [f["name"] for f in manager["http_filters"]][:2] == [RATE_LIMIT_FILTER, REST_ANSWER_FILTER]
    for route in manager["route_config"]["virtual_hosts"][0]["routes"]:
        if "route" not in route:
            continue
        rest_route = route["route"]["cluster"] == API_LISTENER
        removes = route["typed_per_filter_config"].get(REST_ANSWER_FILTER, {}).get("mutations", {})
        removed = {change["remove"] for change in removes.get("response_mutations", [])}
        assert removed == ({"grpc-status", "grpc-message", "grpc-accept-encoding", "grpc-encoding"}
                           if rest_route else set()), route["match"]


def test_a_call_that_never_reached_an_instance_is_tried_on_another_and_a_dead_one_set_aside(rendered):
    _, config = rendered
    for route in _to_services(_manager(config)):
        policy = route["route"]["retry_policy"]
        assert set(policy["retry_on"].split(",")) == {"connect-failure", "refused-stream", "reset-before-request"}
        assert policy["retry_host_predicate"][0]["name"] == "envoy.retry_host_predicates.previous_hosts"
    services = [cluster for cluster in config["static_resources"]["clusters"] if cluster.get("type") == "EDS"]
    assert services and all(cluster["outlier_detection"]["consecutive_local_origin_failure"] == 1
                            and cluster["outlier_detection"]["max_ejection_percent"] == 50 for cluster in services)


def _streaming_methods() -> set[str]:
    """Every server-streaming method of the API, by the descriptor set."""
    files = descriptor_pb2.FileDescriptorSet.FromString(DESCRIPTORS.read_bytes()).file
    return {f"{file.package}.{service.name}/{method.name}" for file in files if file.package.startswith("autosalon.")
            for service in file.service for method in service.method if method.server_streaming}


def test_a_watch_is_not_cut_short_by_the_route_timeout_and_streams_ndjson(rendered):
    _, config = rendered
    assert _streaming_methods() == set(STREAMING_METHODS)
    manager = _manager(config)
    matches = [route["match"] for route in manager["route_config"]["virtual_hosts"][0]["routes"]]
    for method in STREAMING_METHODS:
        route = next(route for route in _to_services(manager) if route["match"] == {"path": f"/{method}"})
        # No timeout: the service ends a watch itself; idle past its longest (an hour at most).
        assert route["route"]["timeout"] == "0s" and int(route["route"]["idle_timeout"].rstrip("s")) > 3600
        service_prefix = {"prefix": f"/{method.split('/')[0]}/"}
        assert matches.index({"path": f"/{method}"}) < matches.index(service_prefix)
        assert CACHE_FILTER in route["typed_per_filter_config"]
    transcoder = _filter(manager, "envoy.filters.http.grpc_json_transcoder")
    assert transcoder["typed_config"]["print_options"]["stream_newline_delimited"] is True


def test_local_dev_servers_are_allowed_only_when_the_setting_says(rendered):
    policy = _manager(rendered[1])["route_config"]["virtual_hosts"][0]["typed_per_filter_config"][
        "envoy.filters.http.cors"]
    assert policy["allow_origin_string_match"] == [
        {"exact": "https://shop.example.ru"}, {"safe_regex": {"regex": LOCALHOST_ORIGIN}}]
    for origin in ("http://localhost", "http://localhost:5173", "http://127.0.0.1:3000"):
        assert re.fullmatch(LOCALHOST_ORIGIN, origin)
    for origin in ("https://localhost:5173", "http://localhost.evil.example", "http://127.0.0.2:80"):
        assert not re.fullmatch(LOCALHOST_ORIGIN, origin)
    assert cors_policy({"cors_origins": [], "cors_localhost": False}) == {}
