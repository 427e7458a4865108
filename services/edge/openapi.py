"""The edge's OpenAPI document (GET /openapi.json): what protoc-gen-openapiv2 made of the
protos' REST routes (gen/openapi, see buf.gen.openapi.yaml), completed with what only the edge
knows: the platform's name and version, the bearer token every operation needs but the public
ones (envoy/edge.yaml's public_methods), and the Idempotency-Key header of the creations whose
comment offers it. A resource name in a path is spelled out as its segments, "/catalog/{name}"
(name: "models/[^/]+/trims/[^/]+") as "/catalog/models/{model}/trims/{trim}", with the variables'
names of the protos' google.api.resource patterns: a client fills in ids, never slashes. The rest (paths, parameters, paging, enums, schemas, the error shape
google.rpc.Status) is the protos' own: where the document is thin, fix the proto comments."""
import copy

BEARER = "bearer"
IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": False,
    "type": "string",
    "description": "Makes a retry safe: sent again with the same key, the call returns what the first "
                   "attempt created and creates nothing more.",
}


def _operations(document: dict):
    for path_item in document["paths"].values():
        for method, operation in path_item.items():
            if method in ("get", "post", "patch", "put", "delete"):
                yield operation


def _method(operation: dict, services: dict[str, str]) -> str:
    """"AuthService_Login" -> "autosalon.auth.v1.AuthService/Login"."""
    service, _, method = operation["operationId"].partition("_")
    return f"{services[service]}/{method}"


def _variables(resource_patterns: list[str]) -> dict[tuple, str]:
    """("models", "*", "trims", "*") -> "trim", from "models/{model}/trims/{trim}"."""
    found = {}
    for pattern in resource_patterns:
        segments = ["*" if segment.startswith("{") else segment for segment in pattern.split("/")]
        for index, segment in enumerate(pattern.split("/")):
            if segment.startswith("{"):
                found[tuple(segments[:index + 1])] = segment.strip("{}")
    return found


def _spelled_out(path: str, operation: dict, variables: dict[tuple, str]) -> str:
    """The operation's path with each resource-name parameter as its segments; the operation's
    parameters changed to match."""
    parameters = []
    for parameter in operation.get("parameters", []):
        if parameter["in"] != "path" or "pattern" not in parameter:
            parameters.append(parameter)
            continue
        wildcards = parameter["pattern"].replace("[^/]+", "*")
        segments = wildcards.split("/")
        names, spelled_segments = [], []
        for index, segment in enumerate(segments):
            if segment == "*":
                name = variables.get(tuple(segments[:index + 1]))
                if name is None:
                    raise ValueError(f"{operation['operationId']}: no google.api.resource pattern names the "
                                     f"variable of {parameter['pattern']}")
                names.append(name)
                segment = f"{{{name}}}"
            spelled_segments.append(segment)
        spelled = "/".join(spelled_segments)
        parameters += [{"name": name, "in": "path", "required": True, "type": "string",
                        "description": f"The {name} id in {spelled}."} for name in names]
        path = path.replace(f"{{{parameter['name']}}}", spelled)
    operation["parameters"] = parameters
    return path


def _with_spelled_out_paths(paths: dict, variables: dict[tuple, str]) -> dict:
    spelled: dict[str, dict] = {}
    for path, item in paths.items():
        for method, operation in item.items():
            target = spelled.setdefault(_spelled_out(path, operation, variables), {})
            if method in target:
                raise ValueError(f"two operations at {method.upper()} {path}")
            target[method] = operation
    return spelled


def _as_streamed(operation: dict) -> None:
    """A server-streaming method's answer as the edge sends it: each message a JSON line (the
    transcoder's NDJSON), not the {result, error} wrapper protoc-gen-openapiv2 describes, which
    is grpc-gateway's."""
    answer = operation["responses"]["200"]
    wrapped = answer["schema"].get("properties", {})
    if "result" in wrapped and "error" in wrapped:
        answer["schema"] = wrapped["result"]
        answer["description"] = ("A stream of JSON objects, one a line (NDJSON): the resource as it is now, "
                                 "then again at each change.")


def completed(generated: dict, version: str, public_methods: list[str], services: list[str],
              resource_patterns: list[str]) -> dict:
    """The document the edge serves: `generated` with the edge's own knowledge added. `services`
    are the gRPC services' full names ("autosalon.auth.v1.AuthService"); `resource_patterns` the
    protos' google.api.resource patterns ("models/{model}/trims/{trim}")."""
    document = copy.deepcopy(generated)
    document["paths"] = _with_spelled_out_paths(document["paths"], _variables(resource_patterns))
    document["info"] = {
        "title": "Autosalon API",
        "version": version,
        "description": "A car dealership's API: REST/JSON through the edge, the same calls as native "
                       "gRPC. Sign in with POST /auth/login and send the access token as "
                       "`Authorization: Bearer <token>`.",
    }
    document["securityDefinitions"] = {BEARER: {
        "type": "apiKey", "in": "header", "name": "Authorization",
        "description": "`Bearer <access token>`, the token from POST /auth/login or /auth/refresh.",
    }}
    document["security"] = [{BEARER: []}]
    by_short_name = {full_name.rsplit(".", 1)[1]: full_name for full_name in services}
    # The emulators' and the mesh's own services are in the protos too, but never behind the edge.
    document["tags"] = [tag for tag in document.get("tags", []) if tag["name"] in by_short_name]
    public = set(public_methods)
    for operation in _operations(document):
        if "(streaming responses)" in operation["responses"]["200"]["description"]:
            _as_streamed(operation)
        if _method(operation, by_short_name) in public:
            operation["security"] = []
        described = operation.get("summary", "") + operation.get("description", "")
        if "Idempotency-Key" in described:
            operation.setdefault("parameters", []).append(dict(IDEMPOTENCY_KEY))
    return document
