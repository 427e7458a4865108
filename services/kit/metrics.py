"""An instance's Prometheus metrics, served as text at http://<bind host>:<port>/metrics; the
port is registered in Consul as the instance's `metrics_port` (kit.server), so that a Prometheus
server finds every target there and the monitoring service gathers them all.

- autosalon_rpc_requests_total{method, code} and autosalon_rpc_duration_seconds{method}: every
  RPC answered, by its gRPC code, and how long it took;
- autosalon_events_handled_total{consumer, outcome} and autosalon_event_handling_seconds{consumer};
- autosalon_circuit_breaker_state{peer, state}: 1 for each breaker's current state;
- autosalon_outbox_backlog: events written and not yet published;
- autosalon_consumer_pending{consumer}: events in JetStream the consumer has not yet acked;
- autosalon_db_connections{state}: the pool's connections in use, idle, and its size;
- autosalon_log_records_dropped: log records the shipper could not keep, since the start;
- and prometheus-client's own: the process's CPU, memory and open files, Python's collections.

What a request costs is one counter and one histogram, their label sets bound once a method;
the rest is read when scraped, or every few seconds by the runtime (the backlog, the consumers).
With AUTOSALON_METRICS off nothing is counted and nothing served.
"""
from typing import Awaitable, Callable, Iterable

import pybreaker
from prometheus_client import REGISTRY, Counter, Gauge, Histogram, disable_created_metrics, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

# A `_created` series a label set doubles what is scraped and says nothing a restart does not.
disable_created_metrics()

# Milliseconds to seconds: the edge's budget for a call is a few of them, a report's 20.
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

RPC_REQUESTS = Counter("autosalon_rpc_requests", "RPCs answered, by method and gRPC code", ["method", "code"])
RPC_DURATION = Histogram("autosalon_rpc_duration_seconds", "Time to answer an RPC", ["method"],
                         buckets=LATENCY_BUCKETS)
EVENTS_HANDLED = Counter("autosalon_events_handled", "Events delivered to a consumer, by outcome",
                         ["consumer", "outcome"])
EVENT_HANDLING = Histogram("autosalon_event_handling_seconds", "Time to handle a delivered event", ["consumer"],
                           buckets=LATENCY_BUCKETS)
OUTBOX_BACKLOG = Gauge("autosalon_outbox_backlog", "Events written to the outbox and not yet published")
CONSUMER_PENDING = Gauge("autosalon_consumer_pending", "Events in JetStream a consumer has not yet acked",
                         ["consumer"])

enabled = True
# The durable consumers this instance pulls from, by name: their backlog is asked every few seconds.
_consumers: dict[str, object] = {}


def rpc_observer(method: str) -> Callable[[str, float], None]:
    """What one answered call of `method` records: `observe(code, seconds)`. A method's series
    appear with its first call, so that those never called take no room in a scrape."""
    if not enabled:
        return lambda code, seconds: None
    bound: dict[str, tuple] = {}

    def observe(code: str, seconds: float) -> None:
        pair = bound.get(code)
        if pair is None:
            pair = bound[code] = (RPC_REQUESTS.labels(method, code), RPC_DURATION.labels(method))
        pair[0].inc()
        pair[1].observe(seconds)

    return observe


def event_handled(consumer: str, outcome: str, seconds: float) -> None:
    if enabled:
        EVENTS_HANDLED.labels(consumer, outcome).inc()
        EVENT_HANDLING.labels(consumer).observe(seconds)


class _Breakers(Collector):
    def __init__(self):
        self.breakers: list[pybreaker.CircuitBreaker] = []

    def collect(self) -> Iterable[GaugeMetricFamily]:
        family = GaugeMetricFamily("autosalon_circuit_breaker_state",
                                   "1 for the state each circuit breaker is in", labels=["peer", "state"])
        for breaker in self.breakers:
            for state in ("closed", "open", "half-open"):
                family.add_metric([breaker.name, state], 1.0 if breaker.current_state == state else 0.0)
        yield family


class _Reading(Collector):
    """A gauge read when scraped from what `read()` returns: [(label values, value)]."""

    def __init__(self, name: str, documentation: str, labels: list[str], read: Callable[[], list]):
        self.name, self.documentation, self.labels, self.read = name, documentation, labels, read

    def collect(self) -> Iterable[GaugeMetricFamily]:
        family = GaugeMetricFamily(self.name, self.documentation, labels=self.labels)
        for values, value in self.read():
            family.add_metric(values, value)
        yield family


BREAKERS = _Breakers()
REGISTRY.register(BREAKERS)


def watch_breaker(breaker: pybreaker.CircuitBreaker) -> pybreaker.CircuitBreaker:
    BREAKERS.breakers.append(breaker)
    return breaker


def read_when_scraped(name: str, documentation: str, labels: list[str], read: Callable[[], list]) -> None:
    """A gauge whose values `read()` gives ([(label values, value)]) each time it is scraped."""
    REGISTRY.register(_Reading(name, documentation, labels, read))


def track_consumer(consumer: str, subscription) -> None:
    _consumers[consumer] = subscription


def forget_consumer(consumer: str) -> None:
    _consumers.pop(consumer, None)


async def refresh(events_waiting: Callable[[], Awaitable[int]]) -> None:
    """One pass over what is asked rather than counted: the outbox's backlog and each
    consumer's pending events in JetStream."""
    OUTBOX_BACKLOG.set(await events_waiting())
    for consumer, subscription in list(_consumers.items()):
        info = await subscription.consumer_info()
        CONSUMER_PENDING.labels(consumer).set(info.num_pending + info.num_ack_pending)


def serve(host: str, port: int) -> int:
    """Serves /metrics on `host`:`port` (0: any free port) in a thread of its own; the port."""
    server, _ = start_http_server(port, addr=host)
    return server.server_port
