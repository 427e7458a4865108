"""Traces through the edge: a purchase made under one x-request-id is followed across every
service it touched, in time order, from the edge's access log line on; the edge and the services
sample the same requests, by Envoy's rule on the id (1 % in the test mesh)."""
import uuid

import grpc
import httpx

from .conftest import bearer
from .purchase import confirm, draft, eventually, in_status, new_vehicle, pay, ready, wait_for_order


def traced_id(first_eight_hex: str = "00000000") -> str:
    return first_eight_hex + uuid.uuid4().hex[8:]


def _trace(edge, admin_session, trace_id: str) -> httpx.Response:
    return edge.get(f"/monitoring/traces/{trace_id}", headers=bearer(admin_session))


def _steps_once_settled(edge, admin_session, trace_id: str, wanted) -> list[dict]:
    found: list[dict] = []

    def settled() -> bool:
        answer = _trace(edge, admin_session, trace_id)
        found[:] = answer.json()["steps"] if answer.status_code == 200 else []
        return wanted(found)

    eventually(settled, seconds=30)
    return found


def _handled_events(records: list[dict]) -> set[tuple[str, str]]:
    """(service, subject) of each event a service handled as a step of the trace."""
    return {(record["service"], record["message"].split()[1]) for record in records
            if record["logger"] == "trace.event"}


def test_a_purchase_is_followed_across_every_service_it_touched(edge, admin_session, client_session,
                                                                 manager_session):
    trace_id = traced_id()
    vehicle = new_vehicle(edge, manager_session)
    with httpx.Client(base_url=edge.base_url, headers={"x-request-id": trace_id}) as traced:
        order = draft(traced, client_session, vehicle)
        assert confirm(traced, client_session, order).status_code == 200
        wait_for_order(edge, client_session, order, ready)
        assert pay(traced, client_session, order).status_code == 200
    wait_for_order(edge, client_session, order, in_status("ORDER_STATUS_PAID"))

    saga_steps = {("inventory", "autosalon.sales.order.confirmed"), ("sales", "autosalon.payment.payment.succeeded")}

    def whole(steps) -> bool:
        # Every instance and the edge send their own batches, each in its own time: wait for every
        # step asserted below by its service (the edge's line names sales's rpc too).
        records = [step["record"] for step in steps]
        services = [record["service"] for record in records]
        return services.count("edge") == 3 and {"sales", "inventory", "payment"} <= set(services) and any(
            record["rpc"].endswith("SalesService/CreateOrder") and record["service"] == "sales"
            for record in records) and saga_steps <= _handled_events(records)

    steps = _steps_once_settled(edge, admin_session, trace_id, whole)
    records = [step["record"] for step in steps]
    assert all(record["trace_id"] == trace_id and record["level"] == "LEVEL_INFO" for record in records)
    times = [record["time"] for record in records]
    assert times == sorted(times)
    # The edge saw each call first, then the service that answered it.
    edge_lines = [record for record in records if record["service"] == "edge"]
    assert [line["message"].split()[1:3] for line in edge_lines] == [
        ["POST", "/sales/orders"], ["POST", f"/sales/{order['name']}:confirm"], ["POST", "/payments"]]
    create = next(record for record in records if record["rpc"].endswith("SalesService/CreateOrder")
                  and record["service"] == "sales")
    assert records.index(edge_lines[0]) < records.index(create)
    assert edge_lines[0]["duration_ms"] >= create["duration_ms"] > 0
    # The saga's events, handled by the services that take part, are steps of the same trace.
    assert saga_steps <= _handled_events(records)
    assert all(int(step.get("since_previous_ms", 0)) >= 0 for step in steps)


def test_the_edge_and_the_services_sample_the_same_requests(edge, admin_session, client_session):
    # 0x63 = 99 is under 1 % of 10,000; 0x64 = 100 is not.
    sampled, passed_over = traced_id("00000063"), traced_id("00000064")
    for trace_id in (sampled, passed_over):
        answer = edge.get("/auth/me", headers={**bearer(client_session), "x-request-id": trace_id})
        assert answer.status_code == 200 and answer.headers["x-request-id"] == trace_id
    steps = _steps_once_settled(edge, admin_session, sampled, lambda steps: len(steps) >= 2)
    assert [step["record"]["service"] for step in steps] == ["edge", "auth"]
    assert steps[1]["record"]["rpc"] == "/autosalon.auth.v1.AuthService/GetCurrentUser"
    # Both were shipped within the same second or so: by now the other would be there too.
    assert _trace(edge, admin_session, passed_over).status_code == 404


def test_trace_steps_stay_out_of_the_log_search_unless_asked_for(edge, admin_session, client_session):
    trace_id = traced_id()
    edge.get("/auth/me", headers={**bearer(client_session), "x-request-id": trace_id})
    _steps_once_settled(edge, admin_session, trace_id, lambda steps: len(steps) >= 2)

    def search(**params) -> list[dict]:
        answer = edge.get("/monitoring/logs", headers=bearer(admin_session), params={"trace_id": trace_id, **params})
        assert answer.status_code == 200, answer.text
        return answer.json().get("records", [])

    assert search() == []
    assert {record["service"] for record in search(min_level="LEVEL_INFO")} == {"edge", "auth"}


OTLP_EXPORT = "/opentelemetry.proto.collector.logs.v1.LogsService/Export"


async def test_the_edge_does_not_route_the_otlp_intake(edge, edge_channel):
    """Only Envoy itself may ship access log lines to monitoring: from outside, the intake is
    not there, over REST nor native gRPC."""
    assert edge.post(OTLP_EXPORT, content=b"", headers={"content-type": "application/json"}).status_code == 404
    export = edge_channel.unary_unary(OTLP_EXPORT, request_serializer=lambda _: b"",
                                      response_deserializer=bytes)
    try:
        await export(b"", timeout=5)
    except grpc.aio.AioRpcError as error:
        assert error.code() == grpc.StatusCode.UNIMPLEMENTED, error
    else:
        raise AssertionError("the edge passed an OTLP export on to monitoring")
