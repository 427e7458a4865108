"""The purchase saga when things break: the gateway down, a service or NATS itself killed
mid-saga, and events delivered twice. Nothing may be lost or done twice."""
import asyncio
import os
import signal
import time
import uuid

import pytest
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from autosalon.common.v1 import common_pb2
from scripts.mesh import supervisor
from services.kit.bus import Bus
from services.kit.settings import load
from services.kit.subjects import stream_name

from .conftest import STRONG_PASSWORD, bearer, login, register
from .purchase import confirm, confirmed_and_ready, draft, in_status, new_vehicle, pay, ready, wait_for_order


def _kill_hard(program: str) -> None:
    """SIGKILL, as a crash: no graceful stop, no deregistration. Supervisord restarts it."""
    pid = int(supervisor.ctl("pid", program).stdout.strip())
    os.kill(pid, signal.SIGKILL)


def _wait(check, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


def _history_types(edge, who, order) -> list[str]:
    return [event["type"] for event in
            edge.get(f"/sales/{order['name']}/history", headers=bearer(who)).json()["events"]]


@pytest.mark.disruptive
def test_gateway_down_payment_waits_pending_then_completes_once(edge, client_session, manager_session):
    order = confirmed_and_ready(edge, client_session, new_vehicle(edge, manager_session))
    supervisor.ctl("stop", "payment-gateway")
    try:
        queued = pay(edge, client_session, order)
        assert queued.status_code == 200, queued.text
        payment = queued.json()
        assert payment["status"] == "PAYMENT_STATUS_PENDING"
        stats = edge.get("/payments/stats", headers=bearer(manager_session)).json()
        assert stats["queued_for_gateway"] >= 1
        # More payments while it is down (other buyers': one holds two cars unpaid at most) open
        # the breaker; they wait too, without a timeout each.
        buyers = [_signed_in(edge) for _ in range(3)]
        others = [confirmed_and_ready(edge, buyer, new_vehicle(edge, manager_session)) for buyer in buyers]
        for buyer, other in zip(buyers, others):
            assert pay(edge, buyer, other).json()["status"] == "PAYMENT_STATUS_PENDING"
        assert wait_for_order(edge, client_session, order, ready)["status"] == "ORDER_STATUS_CONFIRMED"
    finally:
        supervisor.ctl("start", "payment-gateway")
    for buyer, each in ((client_session, order), *zip(buyers, others)):
        wait_for_order(edge, buyer, each, in_status("ORDER_STATUS_PAID"), seconds=60)
    settled = edge.get(f"/{payment['name']}", headers=bearer(client_session)).json()
    assert settled["status"] == "PAYMENT_STATUS_COMPLETED"
    assert settled["transaction_id"] == payment["transaction_id"]
    assert [c["to_status"] for c in settled["status_log"]].count("PAYMENT_STATUS_COMPLETED") == 1
    assert _history_types(edge, client_session, order).count("paid") == 1
    assert edge.get("/payments/stats", headers=bearer(manager_session)).json().get("queued_for_gateway", 0) == 0


@pytest.mark.disruptive
@pytest.mark.parametrize("victim", ["inventory:inventory-0", "sales:sales-0", "nats"])
def test_a_service_killed_mid_saga_finishes_it_after_restart(edge, client_session, manager_session, victim):
    vehicle = new_vehicle(edge, manager_session)
    order = draft(edge, client_session, vehicle)
    assert confirm(edge, client_session, order).status_code == 200
    _kill_hard(victim)
    order = wait_for_order(edge, client_session, order, ready, seconds=90)
    assert order["status"] == "ORDER_STATUS_CONFIRMED"
    paid = pay(edge, client_session, order)
    assert paid.status_code == 200, paid.text
    _kill_hard(victim)
    wait_for_order(edge, client_session, order, in_status("ORDER_STATUS_PAID"), seconds=90)
    _wait(lambda: edge.get(f"/inventory/{vehicle['name']}").json().get("status") == "VEHICLE_STATUS_SOLD", 90)
    types = _history_types(edge, client_session, order)
    assert types == ["created", "confirmed", "vehicle_reserved", "paid"]
    payments = edge.get("/payments", params={"order": order["name"]}, headers=bearer(client_session)).json()
    assert len(payments["payments"]) == 1


def _operator_bus() -> Bus:
    config = load()
    return Bus(config.nats_url, login=config.nats_login)


async def _caught_up(durables: list[tuple[str, str]]) -> None:
    """Waits until each (stream's service, durable consumer) has nothing left to deliver or ack."""
    bus = _operator_bus()
    await bus.connect()
    try:
        for _ in range(300):
            infos = [await bus.js.consumer_info(stream_name(service), durable) for service, durable in durables]
            if all(info.num_pending == 0 and info.num_ack_pending == 0 for info in infos):
                return
            await asyncio.sleep(0.1)
        raise AssertionError(f"consumers still busy: {infos}")
    finally:
        await bus.close()


async def _redeliver(subject: str, subject_name: str, since: str) -> None:
    """Publishes again the stored event on `subject` about `subject_name`, as JetStream does
    when an ack is lost: the same envelope (same event id), a new message. Only the messages
    stored `since` (RFC 3339) are read, so a long-lived stream is no slower to search."""
    bus = _operator_bus()
    await bus.connect()
    try:
        service = subject.split(".")[1]
        consumer = await bus.js.pull_subscribe(
            subject, durable=None, stream=stream_name(service),
            config=ConsumerConfig(deliver_policy=DeliverPolicy.BY_START_TIME, opt_start_time=since,
                                  ack_policy=AckPolicy.NONE))
        found = None
        while found is None:
            for message in await consumer.fetch(100, timeout=5):
                envelope = common_pb2.EventEnvelope.FromString(message.data)
                if envelope.subject == subject_name:
                    found = message.data
        await bus.js.publish(subject, found, headers={"Nats-Msg-Id": uuid.uuid4().hex})
        await consumer.unsubscribe()
    finally:
        await bus.close()


def test_the_same_event_delivered_twice_changes_nothing(edge, client_session, manager_session):
    vehicle = new_vehicle(edge, manager_session)
    order = confirmed_and_ready(edge, client_session, vehicle)
    payment = pay(edge, client_session, order).json()
    wait_for_order(edge, client_session, order, in_status("ORDER_STATUS_PAID"))
    completed = edge.post(f"/sales/{order['name']}:complete", headers=bearer(manager_session), json={})
    assert completed.status_code == 200
    _wait(lambda: edge.get("/customers/me", headers=bearer(client_session)).json().get("purchase_count") == 1)

    since = order["audit"]["create_time"]
    asyncio.run(_redeliver("autosalon.sales.order.completed", order["name"], since))
    asyncio.run(_redeliver("autosalon.payment.payment.succeeded", payment["name"], since))
    asyncio.run(_redeliver("autosalon.sales.order.confirmed", order["name"], since))
    asyncio.run(_caught_up([("sales", "customer-purchases"), ("payment", "sales-saga-payment"),
                            ("sales", "inventory-saga"), ("sales", "pricing-saga")]))
    profile = edge.get("/customers/me", headers=bearer(client_session)).json()
    assert profile["purchase_count"] == 1
    purchases = edge.get("/customers/me/purchases", headers=bearer(client_session)).json()["purchases"]
    assert [purchase["order"] for purchase in purchases] == [order["name"]]
    assert _history_types(edge, client_session, order) == [
        "created", "confirmed", "vehicle_reserved", "paid", "completed"]
    assert edge.get(f"/inventory/{vehicle['name']}").json()["status"] == "VEHICLE_STATUS_SOLD"


def _signed_in(edge) -> dict:
    user = register(edge)
    return login(edge, user["email"], STRONG_PASSWORD)
