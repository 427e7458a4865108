"""monitoring's rows -> protobuf messages, and the edge's OTLP access log lines -> records."""
from autosalon.monitoring.v1 import monitoring_pb2
from mesh.v1 import logs_pb2
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
from services.kit.protos import timestamp

LEVEL = {"info": monitoring_pb2.LEVEL_INFO, "warning": monitoring_pb2.LEVEL_WARNING, "error": monitoring_pb2.LEVEL_ERROR,
         "critical": monitoring_pb2.LEVEL_CRITICAL}
LEVEL_NAME = {value: name for name, value in LEVEL.items()}


def record_to_proto(row) -> monitoring_pb2.LogRecord:
    return monitoring_pb2.LogRecord(
        name=f"log-records/{row.id}", service=row.service, instance=row.instance,
        level=LEVEL.get(row.level, monitoring_pb2.LEVEL_ERROR), logger=row.logger, message=row.message,
        trace_id=row.trace_id, rpc=row.rpc, time=timestamp(row.logged_at), error=row.error,
        duration_ms=row.duration_ms)


def _milliseconds(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return 0.0


def edge_steps(request: logs_service_pb2.ExportLogsServiceRequest) -> logs_pb2.LogBatch:
    """Envoy's lines (services/edge/envoy/access_log.py: the body says what was asked and the
    answer's code, the attributes are the access log's fields) as the first steps of their traces."""
    batch = logs_pb2.LogBatch()
    for resource in request.resource_logs:
        for scope in resource.scope_logs:
            for line in scope.log_records:
                fields = {pair.key: pair.value.string_value for pair in line.attributes}
                upstream = fields.get("upstream", "")
                record = batch.records.add(
                    service="edge", instance="envoy", level="info", logger="trace.edge",
                    message=f"request {line.body.string_value}" + (f" via {upstream}" if upstream else ""),
                    trace_id=fields.get("trace_id", ""),
                    rpc=fields.get("grpc_path", ""), duration_ms=_milliseconds(fields.get("duration_ms", "")))
                record.time.FromNanoseconds(line.time_unix_nano)
    return batch
