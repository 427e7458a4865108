"""The edge's config, derived from the descriptor set: routes, rules, strict JSON schemas."""
import json
import re
import subprocess

import pytest
import yaml

from scripts.mesh.layout import VENV_BIN
from scripts.mesh.tools import DESCRIPTORS
from services.auth import tokens
from services.edge import render, strict_json
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
    (tmp_path / "keys").mkdir()
    pem, kid = tokens.generate_signing_key()
    (tmp_path / "keys" / "jwks.json").write_text(json.dumps(tokens.TokenSigner(pem, kid).jwks()))
    output = render.render(DESCRIPTORS, REPO_ROOT / "envoy" / "edge.yaml", tmp_path)
    return output, yaml.safe_load(output.read_text())


def test_clusters_and_routes_follow_the_protos(rendered):
    _, config = rendered
    clusters = {cluster["name"] for cluster in config["static_resources"]["clusters"]}
    assert clusters == set(render.mesh_services(DESCRIPTORS))
    manager = config["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]["typed_config"]
    routes = manager["route_config"]["virtual_hosts"][0]["routes"]
    matches = [route["match"] for route in routes]
    assert {"path": "/health"} in matches
    assert {"prefix": "/autosalon.auth.v1.AuthService/"} in matches
    # Login has its own strict bucket, matched before the service's generous prefix route.
    login = matches.index({"path": "/autosalon.auth.v1.AuthService/Login"})
    assert login < matches.index({"prefix": "/autosalon.auth.v1.AuthService/"})


def test_only_public_methods_skip_the_token(rendered):
    _, config = rendered
    manager = config["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]["typed_config"]
    jwt = next(f for f in manager["http_filters"] if f["name"] == "envoy.filters.http.jwt_authn")
    rules = jwt["typed_config"]["rules"]
    open_paths = {rule["match"].get("path") for rule in rules if "requires" not in rule}
    assert "/autosalon.auth.v1.AuthService/Login" in open_paths
    assert "/autosalon.auth.v1.AuthService/GetCurrentUser" not in open_paths
    assert rules[-1] == {"match": {"prefix": "/autosalon."}, "requires": {"provider_name": "autosalon"}}
    # That last rule covers every route that reaches a service: nothing is proxied elsewhere.
    for route in manager["route_config"]["virtual_hosts"][0]["routes"]:
        if "route" in route:
            path = route["match"].get("path") or route["match"]["prefix"]
            assert path.startswith("/autosalon."), route["match"]


def test_envoy_accepts_the_config_without_warnings(rendered):
    output, _ = rendered
    result = subprocess.run(
        [VENV_BIN / "envoy", "--mode", "validate", "--log-level", "warn", "-c", output],
        capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "[warning]" not in result.stdout + result.stderr, (result.stdout + result.stderr)[-2000:]


def test_rate_limits_are_per_client_address_on_every_proxied_route(rendered):
    _, config = rendered
    manager = config["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]["typed_config"]
    for route in manager["route_config"]["virtual_hosts"][0]["routes"]:
        if "route" in route:
            limit = route["typed_per_filter_config"]["envoy.filters.http.local_ratelimit"]
            assert limit["rate_limits"] == [{"actions": [{"remote_address": {}}]}]
