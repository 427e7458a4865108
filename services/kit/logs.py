"""JSON-lines logging: one object a line with time, level, service, trace id and message."""
import contextvars
import json
import logging
import sys
import time

trace_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("trace_id", default="")
# The RPC being served ("/autosalon.sales.v1.SalesService/CreateOrder"), while one is.
rpc_var: contextvars.ContextVar[str] = contextvars.ContextVar("rpc", default="")


class JsonFormatter(logging.Formatter):
    def __init__(self, service: str):
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "service": self.service,
            "logger": record.name,
            "trace_id": trace_id_var.get(),
            "message": record.getMessage(),
        }
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def configure(service: str, level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # One line per Consul long-poll is noise; their failures still show as warnings.
    logging.getLogger("httpx").setLevel(logging.WARNING)


def fields(**values) -> dict:
    """Extra structured fields for one log call: `log.info("...", extra=fields(order=id))`."""
    return {"fields": values}
