"""monitoring through the edge: the services' warnings and errors, shipped as events, searched by
service, level and text, and followed by their trace id; admins only; bad filters are 400."""
import pytest

from scripts.mesh import supervisor
from scripts.mesh.layout import SERVICES

from .conftest import bearer
from .purchase import confirmed_and_ready, eventually, new_vehicle, pay
from .test_auth_rest import violations


def _records(edge, session: dict, **params) -> list[dict]:
    answer = edge.get("/monitoring/logs", headers=bearer(session), params=params)
    assert answer.status_code == 200, answer.text
    return answer.json().get("records", [])


def test_records_are_for_admins_and_bad_filters_are_400(edge, admin_session, manager_session, client_session):
    for session in (manager_session, client_session):
        assert edge.get("/monitoring/logs", headers=bearer(session)).status_code == 403
    assert edge.get("/monitoring/logs").status_code == 401
    _records(edge, admin_session, min_level="LEVEL_WARNING", page_size=5)
    too_long = edge.get("/monitoring/logs", headers=bearer(admin_session), params={"text": "x" * 201})
    assert too_long.status_code == 400 and "text" in violations(too_long)
    assert edge.get("/monitoring/traces/no-such-trace", headers=bearer(admin_session)).status_code == 404


@pytest.mark.disruptive
def test_a_warning_logged_while_serving_a_payment_is_found_by_its_words_and_its_trace(
        edge, admin_session, client_session, manager_session):
    order = confirmed_and_ready(edge, client_session, new_vehicle(edge, manager_session))
    supervisor.ctl("stop", "payment-gateway")
    try:
        payment = pay(edge, client_session, order).json()
    finally:
        supervisor.ctl("start", "payment-gateway")
    payment_id = payment["name"].removeprefix("payments/")
    found = []

    def shipped() -> bool:
        found[:] = [record for record in _records(edge, admin_session, service="payment", text="stays queued",
                                                  min_level="LEVEL_WARNING") if payment_id in record["message"]]
        return bool(found)

    eventually(shipped, seconds=30)
    [record] = found
    assert record["level"] == "LEVEL_WARNING" and record["rpc"].endswith("/CreatePayment") and record["trace_id"]
    trace = edge.get(f"/monitoring/traces/{record['trace_id']}", headers=bearer(admin_session)).json()
    assert record["name"] in [step["record"]["name"] for step in trace["steps"]]
    assert "payment" in trace["services"]


def _health(edge, admin_session) -> dict[str, dict]:
    answer = edge.get("/monitoring/services", headers=bearer(admin_session))
    assert answer.status_code == 200, answer.text
    return {service["name"]: service for service in answer.json()["services"]}


def test_every_service_is_listed_with_its_instances_and_their_checks(edge, admin_session, manager_session):
    assert edge.get("/monitoring/services", headers=bearer(manager_session)).status_code == 403
    eventually(lambda: _health(edge, admin_session)["catalog"]["status"] == "passing")
    health = _health(edge, admin_session)
    assert set(health) == set(SERVICES)
    catalog = health["catalog"]
    assert len(catalog["instances"]) == 2 and all(instance["status"] == "passing" for instance in catalog["instances"])
    assert all(check["since"] for instance in catalog["instances"] for check in instance["checks"])


@pytest.mark.disruptive
def test_a_stopped_service_shows_critical_and_passing_again_once_back(edge, admin_session):
    supervisor.ctl("stop", "customer:*")
    try:
        eventually(lambda: _health(edge, admin_session)["customer"]["status"] == "critical", seconds=30)
    finally:
        supervisor.ctl("start", "customer:*")
    eventually(lambda: _health(edge, admin_session)["customer"]["status"] == "passing", seconds=60)
