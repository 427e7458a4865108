"""A service whose dependency is stopped (a peer, or PostgreSQL itself) answers 503 at once,
writes nothing, and serves again when the dependency is back."""
import time

import httpx
import pytest

from scripts.mesh import supervisor

from .conftest import bearer, listed, within_deadline
from .purchase import confirmed_and_ready, create_order, new_vehicle, pay
from .test_pricing import new_trim


def _until_served(call, seconds: float = 60) -> httpx.Response:
    deadline = time.monotonic() + seconds
    while (response := call()).status_code == 503:
        assert time.monotonic() < deadline, f"still unavailable: {response.text}"
        time.sleep(0.3)
    return response


def _unavailable_while_stopped(edge: httpx.Client, program: str, call) -> None:
    supervisor.ctl("stop", program)
    try:
        with within_deadline(edge):
            response = call()
        assert response.status_code == 503, response.text
        assert response.json()["code"] == 14  # UNAVAILABLE
    finally:
        supervisor.ctl("start", program)


@pytest.mark.disruptive
@pytest.mark.parametrize("dependency", ["pricing:*", "inventory:*"])
def test_an_order_needs_pricing_and_inventory(edge, client_session, manager_session, dependency):
    vehicle = new_vehicle(edge, manager_session)
    _unavailable_while_stopped(edge, dependency, lambda: create_order(edge, client_session, vehicle))
    assert listed(edge, "/sales/orders", "orders", bearer(client_session)) == [], \
        "a refused order must leave nothing behind"
    created = _until_served(lambda: create_order(edge, client_session, vehicle))
    assert created.status_code == 200, created.text


@pytest.mark.disruptive
def test_a_payment_needs_sales(edge, client_session, manager_session):
    order = confirmed_and_ready(edge, client_session, new_vehicle(edge, manager_session))
    _unavailable_while_stopped(edge, "sales:*", lambda: pay(edge, client_session, order, key="outage-1"))
    assert listed(edge, "/payments", "payments", bearer(client_session)) == [], \
        "a refused payment must leave nothing behind"
    paid = _until_served(lambda: pay(edge, client_session, order, key="outage-2"))
    assert paid.status_code == 200, paid.text


@pytest.mark.disruptive
def test_a_quote_needs_the_catalogue(edge, manager_session):
    trim = new_trim(edge, manager_session)["name"]  # not among the models pricing keeps
    _unavailable_while_stopped(edge, "catalog:*", lambda: edge.post("/pricing/quotes", json={"trim": trim}))
    quote = _until_served(lambda: edge.post("/pricing/quotes", json={"trim": trim}))
    assert quote.status_code == 200, quote.text


@pytest.mark.disruptive
def test_the_database_down_is_503_then_served_again(edge, client_session):
    def mine() -> httpx.Response:
        return edge.get("/customers/me", headers=bearer(client_session))

    supervisor.ctl("stop", "postgres")
    try:
        with within_deadline(edge):
            response = mine()
        assert response.status_code == 503, response.text
        assert response.json() == {"code": 14, "message": "the database is unavailable; try again shortly",
                                   "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo",
                                                "reason": "DATABASE_UNAVAILABLE", "domain": "autosalon",
                                                "metadata": {}}]}
    finally:
        supervisor.ctl("start", "postgres")
    served = _until_served(mine)
    assert served.status_code == 200, served.text
