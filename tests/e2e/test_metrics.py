"""Metrics: every instance serves Prometheus text at the port it registered in Consul (so a
Prometheus server finds each target there), counting its RPCs by code with their latency, its
events, breakers, outbox, consumers and pool; GET /monitoring/metrics gathers them all with
Envoy's own, each sample naming its service and instance; admins only, bad filters are 400."""
import httpx
from prometheus_client.parser import text_string_to_metric_families

from scripts.mesh.layout import SERVICES, instances

from .conftest import bearer
from .test_auth_rest import violations
from .test_mesh_operations import _consul

GET_CURRENT_USER = "/autosalon.auth.v1.AuthService/GetCurrentUser"


def _samples(text: str) -> dict[str, list]:
    found: dict[str, list] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found.setdefault(sample.name, []).append(sample)
    return found


def _targets(service: str) -> list[str]:
    return [f"http://{entry['Service']['Address']}:{entry['Service']['Meta']['metrics_port']}/metrics"
            for entry in _consul(f"/v1/health/service/{service}?passing=true")]


def _answered(samples: dict[str, list], method: str, code: str = "OK") -> float:
    return sum(sample.value for sample in samples.get("autosalon_rpc_requests_total", [])
               if sample.labels == {"method": method, "code": code})


def test_every_instance_serves_its_metrics_at_the_port_it_registered_in_consul():
    for service in SERVICES:
        targets = _targets(service)
        assert len(targets) == instances(service), service
        for target in targets:
            answer = httpx.get(target, timeout=5)
            assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/plain")
            samples = _samples(answer.text)
            for name in ("autosalon_outbox_backlog", "autosalon_db_connections", "process_cpu_seconds_total",
                         "autosalon_log_records_dropped"):
                assert name in samples, (service, name)
            assert {sample.labels["state"] for sample in samples["autosalon_db_connections"]} == {
                "in_use", "idle", "size"}


def test_a_call_is_counted_by_its_code_with_its_latency(edge, client_session):
    def auth_samples() -> dict[str, list]:
        merged: dict[str, list] = {}
        for target in _targets("auth"):
            for name, samples in _samples(httpx.get(target, timeout=5).text).items():
                merged.setdefault(name, []).extend(samples)
        return merged

    before = auth_samples()
    for _ in range(3):
        assert edge.get("/auth/me", headers=bearer(client_session)).status_code == 200
    assert edge.get("/auth/me", headers={"authorization": "Bearer not-a-token"}).status_code == 401
    after = auth_samples()
    assert _answered(after, GET_CURRENT_USER) - _answered(before, GET_CURRENT_USER) == 3
    latency = [sample for sample in after["autosalon_rpc_duration_seconds_count"]
               if sample.labels["method"] == GET_CURRENT_USER]
    assert sum(sample.value for sample in latency) >= 3


def _scraped(service: str) -> list[dict[str, list]]:
    return [_samples(httpx.get(target, timeout=5).text) for target in _targets(service)]


def test_consumers_and_breakers_are_measured():
    for samples in _scraped("sales"):
        assert any(sample.labels["consumer"].startswith("sales.") for sample in samples["autosalon_consumer_pending"])
    # payment calls the gateway through a breaker of its own, there from the start.
    for samples in _scraped("payment"):
        states = samples["autosalon_circuit_breaker_state"]
        assert {sample.labels["state"] for sample in states} == {"closed", "open", "half-open"}
        for peer in {sample.labels["peer"] for sample in states}:
            assert sum(sample.value for sample in states if sample.labels["peer"] == peer) == 1


def test_monitoring_gathers_every_service_and_the_edge(edge, admin_session, client_session):
    edge.get("/auth/me", headers=bearer(client_session))
    answer = edge.get("/monitoring/metrics", headers=bearer(admin_session))
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/plain")
    samples = _samples(answer.text)
    answered = samples["autosalon_rpc_requests_total"]
    assert "auth" in {sample.labels["service"] for sample in answered}
    assert {sample.labels["service"] for sample in samples["autosalon_db_connections"]} == set(SERVICES)
    instances_of_auth = {sample.labels["instance"] for sample in samples["autosalon_db_connections"]
                         if sample.labels["service"] == "auth"}
    assert len(instances_of_auth) == instances("auth")
    envoy = [name for name in samples if name.startswith("envoy_")]
    assert envoy and all(sample.labels["service"] == "edge" for name in envoy for sample in samples[name])
    assert "# unreachable" not in answer.text


def test_the_metrics_can_be_narrowed_to_a_service_and_a_prefix(edge, admin_session, client_session):
    assert edge.get("/sales/orders", headers=bearer(client_session)).status_code == 200
    answer = edge.get("/monitoring/metrics", headers=bearer(admin_session),
                      params={"service": "sales", "prefix": "autosalon_rpc"})
    assert answer.status_code == 200, answer.text
    samples = _samples(answer.text)
    assert samples and all(name.startswith("autosalon_rpc") for name in samples)
    assert {sample.labels["service"] for values in samples.values() for sample in values} == {"sales"}
    edge_only = _samples(edge.get("/monitoring/metrics", headers=bearer(admin_session),
                                  params={"service": "edge", "prefix": "envoy_server_live"}).text)
    assert list(edge_only) == ["envoy_server_live"]


def test_the_metrics_are_for_admins_and_bad_filters_are_400(edge, admin_session, manager_session):
    assert edge.get("/monitoring/metrics").status_code == 401
    assert edge.get("/monitoring/metrics", headers=bearer(manager_session)).status_code == 403
    unknown = edge.get("/monitoring/metrics", headers=bearer(admin_session), params={"service": "garage"})
    assert unknown.status_code == 400 and "service" in violations(unknown)
    long = edge.get("/monitoring/metrics", headers=bearer(admin_session), params={"prefix": "a" * 101})
    assert long.status_code == 400 and "prefix" in violations(long)
