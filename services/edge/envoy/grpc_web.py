"""gRPC-web, the browser's gRPC (what @connectrpc/connect's grpc-web transport speaks): Envoy's
grpc_web filter turns such a call into a native gRPC one, and the answer's trailers into the
final frame of its body. A browser on an allowed origin may send the headers a grpc-web client
sets (strict_json.CORS_HEADERS), and read the status its answer carries in headers (cors.py)."""
from . import FILTERS

# The status of an answer that has no body (a refusal) is in its headers: a browser reads them
# only when they are exposed.
STATUS_HEADERS = "grpc-status, grpc-message, grpc-status-details-bin"


def grpc_web_filter() -> dict:
    return {"name": "envoy.filters.http.grpc_web",
            "typed_config": {"@type": f"{FILTERS}.http.grpc_web.v3.GrpcWeb"}}
