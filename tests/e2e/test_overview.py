"""The edge's own page, GET /, over REST and native gRPC: the platform's name and version and
every service's state; anyone sees which services answer, staff their details too; a stopped
service is named as unavailable within the deadline, and the page still answers."""
import pytest

from autosalon.overview.v1 import overview_pb2, overview_pb2_grpc
from scripts.mesh import supervisor
from scripts.mesh.layout import SERVICES

from .conftest import bearer
from .purchase import eventually


def _page(edge, session: dict | None = None) -> dict:
    answer = edge.get("/", headers=bearer(session) if session else {})
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_anyone_sees_the_platform_and_which_services_answer(edge):
    page = _page(edge)
    assert page["platform"] == "Autosalon" and page["version"].startswith("0.1.0")
    assert [service["name"] for service in page["services"]] == list(SERVICES)
    assert all(service["available"] for service in page["services"]) and not page.get("unavailable")
    assert not any(service.get("instance") or int(service.get("requests", 0)) for service in page["services"]), \
        "the details are for staff"


def test_staff_see_each_services_version_uptime_and_calls(edge, manager_session):
    # Signed in, past the edge's cache, and round robin over catalog's instances.
    for _ in range(4):
        assert edge.get("/catalog/models", headers=bearer(manager_session)).status_code == 200
    page = _page(edge, manager_session)
    catalog = next(service for service in page["services"] if service["name"] == "catalog")
    assert catalog["version"] == page["version"] and catalog["instance"]
    assert int(catalog["requests"]) >= 1 and int(catalog.get("uptime_seconds", 0)) >= 0


async def test_native_grpc_answers_the_same(edge_channel):
    page = await overview_pb2_grpc.OverviewServiceStub(edge_channel).GetOverview(overview_pb2.GetOverviewRequest())
    assert page.platform == "Autosalon" and len(page.services) == len(SERVICES)


@pytest.mark.disruptive
def test_a_stopped_service_is_named_unavailable_and_the_page_still_answers(edge, manager_session):
    supervisor.ctl("stop", "customer:*")
    try:
        def named() -> bool:
            return _page(edge, manager_session).get("unavailable") == ["customer"]

        eventually(named, seconds=30)
        page = _page(edge)
        customer = next(service for service in page["services"] if service["name"] == "customer")
        assert customer["available"] is False and not customer.get("instance")
        assert all(service["available"] for service in page["services"] if service["name"] != "customer")
    finally:
        supervisor.ctl("start", "customer:*")
    eventually(lambda: not _page(edge).get("unavailable"), seconds=30)
