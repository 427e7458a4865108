"""The edge's access log: one JSON line a request, in one file Envoy writes itself (its rotation
is ../access_log.py). Only native gRPC calls carry `grpc_status`: for a REST answer Envoy would
infer one from the HTTP code, and a 400 would read as INTERNAL.

A sampled request's line (kit.tracing's rule, which is Envoy's runtime filter on x-request-id)
also goes to the monitoring service over OTLP, as the first step of its trace."""
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


# The monitoring service's OTLP logs endpoint (services/monitoring/api.py).
TRACES_CLUSTER = "monitoring"
TRACE_RUNTIME_KEY = "autosalon.trace_percent"


def _sampled(percent: float) -> dict:
    """Envoy's decision from the x-request-id alone, as kit.tracing.sampled makes it."""
    return {"runtime_filter": {
        "runtime_key": TRACE_RUNTIME_KEY,
        "percent_sampled": {"numerator": round(percent * 100), "denominator": "TEN_THOUSAND"},
        "use_independent_randomness": False,
    }}


def _to_monitoring(which: dict, log_format: dict, percent: float) -> dict:
    return {
        "name": "envoy.access_loggers.open_telemetry",
        "filter": {"and_filter": {"filters": [which, _sampled(percent)]}},
        "typed_config": {
            "@type": "type.googleapis.com/envoy.extensions.access_loggers.open_telemetry.v3"
                     ".OpenTelemetryAccessLogConfig",
            "log_name": "edge",
            "grpc_service": {"envoy_grpc": {"cluster_name": TRACES_CLUSTER}, "timeout": "2s"},
            "buffer_flush_interval": "0.5s",
            "disable_builtin_labels": True,
            "body": {"string_value": "%REQ(X-ENVOY-ORIGINAL-METHOD?:METHOD)% %REQ(X-ENVOY-ORIGINAL-PATH?:PATH)% "
                                     "%RESPONSE_CODE%"},
            "attributes": {"values": [
                {"key": name, "value": {"string_value": value}} for name, value in log_format.items()]},
        },
    }


def access_log(run_dir: pathlib.Path, trace_percent: float) -> list[dict]:
    """The connection manager's loggers: for native gRPC calls and for REST calls, one to the
    file and, when tracing is on, one to monitoring for the sampled requests."""
    rest_format = {name: value for name, value in ACCESS_LOG_FORMAT.items() if name != "grpc_status"}
    loggers = []
    for which, log_format in ((NATIVE_GRPC, ACCESS_LOG_FORMAT), (REST, rest_format)):
        # Straight to its own file: through supervisord's pipe, every request cost a Python wakeup.
        loggers.append({
            "name": "envoy.access_loggers.file",
            "filter": which,
            "typed_config": {
                "@type": "type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog",
                "path": str(access_log_path(run_dir)),
                "log_format": {"json_format": log_format},
            },
        })
        if trace_percent > 0:
            loggers.append(_to_monitoring(which, log_format, trace_percent))
    return loggers
