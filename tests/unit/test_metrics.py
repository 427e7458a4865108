"""kit.metrics and monitoring's gathering: a call is counted by its code with its latency, a
method's series appear with its first call, a breaker is in one state at a time; the gathered
document labels every sample with its service and instance, narrows to a prefix and names the
targets that did not answer or could not be read."""
from prometheus_client import REGISTRY, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from services.kit import metrics
from services.kit.calls import new_breaker
from services.monitoring.scrape import Scraped, Target, merged


def _value(name: str, labels: dict) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_a_call_is_counted_by_its_code_with_its_latency_and_silent_methods_take_no_room():
    observe = metrics.rpc_observer("/test.v1.Unit/Counted")
    metrics.rpc_observer("/test.v1.Unit/NeverCalled")
    observe("OK", 0.003)
    observe("OK", 0.2)
    observe("NOT_FOUND", 0.001)
    assert _value("autosalon_rpc_requests_total", {"method": "/test.v1.Unit/Counted", "code": "OK"}) == 2
    assert _value("autosalon_rpc_requests_total", {"method": "/test.v1.Unit/Counted", "code": "NOT_FOUND"}) == 1
    assert _value("autosalon_rpc_duration_seconds_count", {"method": "/test.v1.Unit/Counted"}) == 3
    assert _value("autosalon_rpc_duration_seconds_bucket", {"method": "/test.v1.Unit/Counted", "le": "0.005"}) == 2
    assert "NeverCalled" not in generate_latest(REGISTRY).decode()


def test_a_breaker_is_in_one_state_at_a_time():
    breaker = new_breaker("unit-peer", fail_max=1, reset_timeout=60)
    states = {state: _value("autosalon_circuit_breaker_state", {"peer": "unit-peer", "state": state})
              for state in ("closed", "open", "half-open")}
    assert states == {"closed": 1, "open": 0, "half-open": 0}
    breaker.open()
    assert _value("autosalon_circuit_breaker_state", {"peer": "unit-peer", "state": "open"}) == 1
    assert _value("autosalon_circuit_breaker_state", {"peer": "unit-peer", "state": "closed"}) == 0


SERVICE_TEXT = """# TYPE autosalon_rpc_requests_total counter
autosalon_rpc_requests_total{method="/a.v1.A/Get",code="OK"} 4
# TYPE autosalon_outbox_backlog gauge
autosalon_outbox_backlog 2
"""
ENVOY_TEXT = """# TYPE envoy_server_live gauge
envoy_server_live{} 1
"""


def _families(text: str) -> dict:
    return {family.name: family for family in text_string_to_metric_families(text)}


def test_the_gathered_document_names_each_samples_service_and_instance():
    document = merged([Scraped(Target("sales", "h:1", "u"), text=SERVICE_TEXT),
                       Scraped(Target("sales", "h:2", "u"), text=SERVICE_TEXT),
                       Scraped(Target("edge", "e:9901", "u"), text=ENVOY_TEXT)])
    families = _families(document)
    assert families["autosalon_rpc_requests"].type == "counter"
    assert [sample.labels for sample in families["autosalon_rpc_requests"].samples] == [
        {"method": "/a.v1.A/Get", "code": "OK", "service": "sales", "instance": "h:1"},
        {"method": "/a.v1.A/Get", "code": "OK", "service": "sales", "instance": "h:2"}]
    assert families["envoy_server_live"].samples[0].labels == {"service": "edge", "instance": "e:9901"}
    assert "# unreachable" not in document


HISTOGRAM_TEXT = """# TYPE autosalon_rpc_duration_seconds histogram
autosalon_rpc_duration_seconds_bucket{method="/a.v1.A/Get",le="0.005"} 3
autosalon_rpc_duration_seconds_bucket{method="/a.v1.A/Get",le="+Inf"} 4
autosalon_rpc_duration_seconds_count{method="/a.v1.A/Get"} 4
autosalon_rpc_duration_seconds_sum{method="/a.v1.A/Get"} 0.02
"""


def test_without_a_prefix_histograms_keep_their_count_and_sum_but_not_their_buckets():
    answers = [Scraped(Target("sales", "h:1", "u"), text=HISTOGRAM_TEXT)]
    whole = [sample.name for sample in _families(merged(answers))["autosalon_rpc_duration_seconds"].samples]
    assert whole == ["autosalon_rpc_duration_seconds_count", "autosalon_rpc_duration_seconds_sum"]
    asked = _families(merged(answers, prefix="autosalon_rpc_duration"))["autosalon_rpc_duration_seconds"]
    assert [sample.labels.get("le") for sample in asked.samples][:2] == ["0.005", "+Inf"]


def test_a_prefix_narrows_and_the_missing_targets_are_named():
    document = merged([Scraped(Target("sales", "h:1", "u"), text=SERVICE_TEXT),
                       Scraped(Target("auth", "h:3", "u"), problem="ConnectTimeout"),
                       Scraped(Target("auth", "h:4", "u"), text="not {{ prometheus")], prefix="autosalon_outbox")
    assert list(_families(document)) == ["autosalon_outbox_backlog"]
    assert document.startswith("# unreachable: auth h:3 (ConnectTimeout)\n# unreachable: auth h:4 (unreadable)\n")
