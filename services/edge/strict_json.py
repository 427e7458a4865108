"""The request schemas strict_json.lua checks bodies against, generated from the descriptors."""
import pathlib
import re

from google.protobuf import descriptor_pb2

from services.kit.errors import ERROR_DOMAIN

from .api import Api

FieldType = descriptor_pb2.FieldDescriptorProto
_LUA_MAGIC = re.compile(r"([\^$()%.\[\]*+\-?])")
_BODY_VERBS = ("POST", "PATCH", "PUT")
# What a web front end on an allowed origin may send (envoy/edge.yaml's cors_origins), over
# REST or gRPC-web (envoy/grpc_web.py).
CORS_METHODS = "GET, POST, PATCH, DELETE"
CORS_HEADERS = "authorization, content-type, idempotency-key, x-request-id, x-grpc-web, x-user-agent, grpc-timeout"
CORS_MAX_AGE = "600"


def _lua_literal(text: str) -> str:
    return _LUA_MAGIC.sub(r"%\1", text)


def path_pattern(template: str) -> str:
    """A Lua pattern matching the paths of an HTTP rule template like /auth/{name=users/*}."""
    pattern = ""
    for literal, variable in re.findall(r"([^{]*)(?:\{([^}]*)\})?", template):
        pattern += _lua_literal(literal)
        if variable:
            segments = variable.partition("=")[2] or "*"
            pattern += "/".join(
                "[^/]+" if part == "*" else ".+" if part == "**" else _lua_literal(part)
                for part in segments.split("/")
            )
    return f"^{pattern}$"


def _lua_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def lua_tables(descriptors: pathlib.Path) -> str:
    api = Api.load(descriptors.read_bytes())
    messages = api.messages
    routes, roots = [], set()
    for method in api.methods:
        if method.verb not in _BODY_VERBS or not method.body:
            continue
        root = method.request
        if method.body != "*":
            root = next(f for f in messages[root].field if f.name == method.body).type_name
        roots.add(root)
        routes.append((method.verb, path_pattern(method.template), root))

    schemas, pending = {}, sorted(roots)
    while pending:
        name = pending.pop()
        if name in schemas:
            continue
        fields = {}
        for field in messages[name].field:
            nested = "false"
            is_message = field.type == FieldType.TYPE_MESSAGE
            if is_message and not field.type_name.startswith(".google.protobuf."):
                if not messages[field.type_name].options.map_entry:
                    nested = _lua_string(field.type_name)
                    pending.append(field.type_name)
            fields[field.name] = nested
            fields[field.json_name] = nested
        schemas[name] = fields

    lines = ["ROUTES = {"]
    lines += [f"  {{{_lua_string(v)}, {_lua_string(p)}, {_lua_string(m)}}}," for v, p, m in routes]
    lines += ["}", "MESSAGES = {"]
    for name, fields in sorted(schemas.items()):
        entries = ", ".join(f"[{_lua_string(k)}] = {v}" for k, v in sorted(fields.items()))
        lines.append(f"  [{_lua_string(name)}] = {{{entries}}},")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _cors_tables(origins: list[str], localhost: bool) -> str:
    allowed = ", ".join(f"[{_lua_string(origin)}] = true" for origin in origins)
    return (f"CORS_ORIGINS = {{{allowed}}}\nCORS_LOCALHOST = {'true' if localhost else 'false'}\n"
            f"CORS_METHODS = {_lua_string(CORS_METHODS)}\n"
            f"CORS_HEADERS = {_lua_string(CORS_HEADERS)}\nCORS_MAX_AGE = {_lua_string(CORS_MAX_AGE)}\n")


def lua_filter(descriptors: pathlib.Path, cors_origins: list[str], cors_localhost: bool) -> dict:
    source = (lua_tables(descriptors) + _cors_tables(cors_origins, cors_localhost)
              + f"ERROR_DOMAIN = {_lua_string(ERROR_DOMAIN)}\n"
              + (pathlib.Path(__file__).with_name("strict_json.lua")).read_text())
    return {
        "name": "envoy.filters.http.lua",
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.filters.http.lua.v3.Lua",
            "default_source_code": {"inline_string": source},
        },
    }
