"""Traces: which requests are sampled, and the steps a sampled one leaves in this instance.

A request is sampled when the first eight hex digits of its trace id (Envoy's x-request-id), as
a number, modulo 10,000 are below `percent` × 100. That is Envoy's own rule for a runtime filter
on the request id, so the edge and every service decide alike from the id alone, with nothing
passed along. An id that is not hex there is never sampled.

Each RPC served and each event handled under a sampled trace becomes a record (level "info",
with its duration) in the log shipper's queue (kit.log_shipping): the monitoring service puts
them together with the edge's access log line. Installed once a process, like logging itself;
until then nothing is recorded.
"""
import datetime

from mesh.v1 import logs_pb2

from . import logs
from .log_shipping import LogShipper

DENOMINATOR = 10_000


def sampled(trace_id: str, percent: float) -> bool:
    try:
        return int(trace_id[:8], 16) % DENOMINATOR < percent * DENOMINATOR / 100
    except ValueError:
        return False


class _Tracer:
    def __init__(self, shipper: LogShipper, percent: float):
        self.shipper = shipper
        self.percent = percent

    def step(self, kind: str, what: str, outcome: str, started: float, seconds: float) -> None:
        trace_id = logs.trace_id_var.get()
        if not sampled(trace_id, self.percent):
            return
        record = logs_pb2.LogRecord(
            service=self.shipper.service, instance=self.shipper.instance, level="info", logger=f"trace.{kind}",
            message=f"{kind} {what} {outcome}", trace_id=trace_id, rpc=logs.rpc_var.get(),
            duration_ms=round(seconds * 1000, 3))
        record.time.FromDatetime(datetime.datetime.fromtimestamp(started, datetime.timezone.utc))
        self.shipper.keep(record)


_tracer: _Tracer | None = None


def install(shipper: LogShipper, percent: float) -> None:
    """From now on, the steps of sampled traces go into `shipper`'s queue."""
    global _tracer
    _tracer = _Tracer(shipper, percent) if percent > 0 else None


def step(kind: str, what: str, outcome: str, started: float, seconds: float) -> None:
    """A step of the current trace: `kind` "rpc" or "event", what it was (the method, the event
    type), how it ended, when it started (epoch seconds) and how long it took; recorded only
    when the trace is sampled."""
    if _tracer is not None:
        _tracer.step(kind, what, outcome, started, seconds)
