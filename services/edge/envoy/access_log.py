"""The edge's access log: one JSON line a request, in one file Envoy writes itself (its rotation
is ../access_log.py). Only native gRPC calls carry `grpc_status`: for a REST answer Envoy would
infer one from the HTTP code, and a 400 would read as INTERNAL."""
import pathlib

from .rest_or_grpc import NATIVE_GRPC, REST

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


def access_log(run_dir: pathlib.Path) -> list[dict]:
    """The connection manager's loggers: one for native gRPC calls, one for REST calls."""
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
