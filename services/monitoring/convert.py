"""monitoring's rows -> protobuf messages."""
from autosalon.monitoring.v1 import monitoring_pb2
from services.kit.protos import timestamp

LEVEL = {"warning": monitoring_pb2.LEVEL_WARNING, "error": monitoring_pb2.LEVEL_ERROR,
         "critical": monitoring_pb2.LEVEL_CRITICAL}
LEVEL_NAME = {value: name for name, value in LEVEL.items()}


def record_to_proto(row) -> monitoring_pb2.LogRecord:
    return monitoring_pb2.LogRecord(
        name=f"log-records/{row.id}", service=row.service, instance=row.instance,
        level=LEVEL.get(row.level, monitoring_pb2.LEVEL_ERROR), logger=row.logger, message=row.message,
        trace_id=row.trace_id, rpc=row.rpc, time=timestamp(row.logged_at), error=row.error)
