"""Traces: a request is sampled by the first eight hex digits of its id, as Envoy's runtime filter
decides (mod 10,000 under percent × 100); a sampled request's RPCs and handled events become
records with their duration in the log shipper's queue, an unsampled one's leave nothing; the
edge's OTLP lines become the edge's steps; the edge sends only sampled lines to monitoring."""
import datetime

from hypothesis import given, strategies as st
from opentelemetry.proto.collector.logs.v1 import logs_service_pb2

from services.edge.envoy.access_log import access_log
from services.kit import logs, tracing
from services.kit.log_shipping import LogShipper
from services.monitoring import domain
from services.monitoring.convert import edge_steps


def test_the_first_eight_hex_digits_decide_as_envoy_does():
    assert tracing.sampled("00000000-1111-4111-8111-111111111111", 1)
    assert tracing.sampled("00000063" + "f" * 24, 1) and not tracing.sampled("00000064" + "0" * 24, 1)
    assert tracing.sampled("00002710abc", 1)  # 10,000 mod 10,000 is 0
    assert not tracing.sampled("00000000-1111", 0)
    assert tracing.sampled("ffffffff-1111", 100)
    for not_hex in ("", "trace-1", "0000zzzz-1111"):
        assert not tracing.sampled(not_hex, 100)


@given(st.integers(min_value=0, max_value=2**32 - 1), st.integers(min_value=0, max_value=100))
def test_a_share_of_ids_that_is_the_percent(first, percent):
    trace_id = f"{first:08x}-rest"
    assert tracing.sampled(trace_id, percent) == (first % 10_000 < percent * 100)


def test_a_sampled_requests_steps_are_queued_with_their_duration_and_others_leave_nothing():
    shipper = LogShipper("sales", queue_size=10)
    tracing.install(shipper, 1.0)
    try:
        started = datetime.datetime(2026, 12, 3, 8, 0, tzinfo=datetime.timezone.utc).timestamp()
        logs.rpc_var.set("/autosalon.sales.v1.SalesService/CreateOrder")
        logs.trace_id_var.set("00000000-aaaa")
        tracing.step("rpc", "/autosalon.sales.v1.SalesService/CreateOrder", "OK", started, 0.0125)
        logs.trace_id_var.set("ffffffff-aaaa")
        tracing.step("rpc", "/autosalon.sales.v1.SalesService/CreateOrder", "OK", started, 0.0125)
        [record] = shipper.next_batch().records
    finally:
        tracing.install(shipper, 0)
    assert (record.service, record.level, record.logger, record.trace_id) == ("sales", "info", "trace.rpc",
                                                                              "00000000-aaaa")
    assert record.message == "rpc /autosalon.sales.v1.SalesService/CreateOrder OK"
    assert record.duration_ms == 12.5 and record.time.ToSeconds() == started
    assert domain.SEVERITY["info"] < domain.SEVERITY["warning"]


def test_nothing_is_recorded_when_tracing_is_off():
    shipper = LogShipper("sales")
    tracing.install(shipper, 0)
    logs.trace_id_var.set("00000000-aaaa")
    tracing.step("event", "autosalon.sales.order.paid by inventory.saga", "applied", 0.0, 0.001)
    assert shipper.next_batch() is None


def test_the_edges_lines_become_its_steps():
    request = logs_service_pb2.ExportLogsServiceRequest()
    line = request.resource_logs.add().scope_logs.add().log_records.add(time_unix_nano=1_796_284_800_123_000_000)
    line.body.string_value = "POST /sales/orders 200"
    for key, value in (("trace_id", "00000000-aaaa"), ("duration_ms", "17"), ("upstream", "127.0.0.1:4101"),
                       ("grpc_path", "/autosalon.sales.v1.SalesService/CreateOrder")):
        line.attributes.add(key=key).value.string_value = value
    unfinished = request.resource_logs[0].scope_logs[0].log_records.add(time_unix_nano=1)
    unfinished.attributes.add(key="duration_ms").value.string_value = "-"
    first, second = edge_steps(request).records
    assert (first.service, first.level, first.logger, first.trace_id) == ("edge", "info", "trace.edge",
                                                                          "00000000-aaaa")
    assert first.message == "request POST /sales/orders 200 via 127.0.0.1:4101" and first.duration_ms == 17
    assert first.rpc == "/autosalon.sales.v1.SalesService/CreateOrder" and first.instance == "envoy"
    assert first.time.ToNanoseconds() == 1_796_284_800_123_000_000
    assert second.duration_ms == 0 and second.message == "request "


def test_the_edge_sends_monitoring_only_the_sampled_lines(tmp_path):
    to_file = [logger for logger in access_log(tmp_path, 0) if logger["name"] == "envoy.access_loggers.file"]
    assert access_log(tmp_path, 0) == to_file and len(to_file) == 2
    to_monitoring = [logger for logger in access_log(tmp_path, 2.5) if logger not in to_file]
    assert len(to_monitoring) == 2
    for logger in to_monitoring:
        sampled = logger["filter"]["and_filter"]["filters"][1]["runtime_filter"]
        assert sampled["percent_sampled"] == {"numerator": 250, "denominator": "TEN_THOUSAND"}
        assert sampled["use_independent_randomness"] is False
        assert logger["typed_config"]["grpc_service"]["envoy_grpc"]["cluster_name"] == "monitoring"
