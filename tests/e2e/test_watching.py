"""Watching an order or a payment instead of polling it, over native gRPC and REST through the
edge: the first message is the state now, then one per change, in order, until the final
state ends the stream; only the buyer (or staff) may watch, as they may read it."""
import asyncio
import json
import uuid

import grpc
import pytest

from autosalon.payment.v1 import payment_pb2, payment_pb2_grpc
from autosalon.sales.v1 import sales_pb2, sales_pb2_grpc

from .conftest import STRONG_PASSWORD, bearer, grpc_reason, json_reason, login, register
from .purchase import confirm, confirmed_and_ready, draft, new_vehicle, pay

# Far above any answer expected: a stream that goes quiet fails the test rather than hang it.
PATIENCE_SECONDS = 30


def _metadata(session: dict) -> tuple:
    return (("authorization", f"Bearer {session['access_token']}"),)


async def _next(call):
    return await asyncio.wait_for(call.read(), PATIENCE_SECONDS)


async def _until(call, done) -> list:
    """The messages of the stream up to the first that is `done`."""
    seen = []
    while True:
        message = await _next(call)
        assert message is not grpc.aio.EOF, f"the stream ended before {seen[-1:]}"
        seen.append(message)
        if done(message):
            return seen


def _steps(values: list) -> list:
    """The values, each run of the same one once."""
    return [value for index, value in enumerate(values) if index == 0 or values[index - 1] != value]


@pytest.fixture
def stranger(edge) -> dict:
    """Another client, signed in."""
    user = register(edge)
    return login(edge, user["email"], STRONG_PASSWORD)


async def test_an_order_watched_over_grpc_shows_each_step_until_it_is_handed_over(
        edge, edge_channel, client_session, manager_session):
    vehicle = new_vehicle(edge, manager_session)
    order = draft(edge, client_session, vehicle)
    call = sales_pb2_grpc.SalesServiceStub(edge_channel).WatchOrder(
        sales_pb2.WatchOrderRequest(name=order["name"]), metadata=_metadata(client_session))
    seen = [await _next(call)]
    assert seen[0].name == order["name"] and seen[0].status == sales_pb2.ORDER_STATUS_DRAFT
    assert not seen[0].HasField("held_until")

    assert confirm(edge, client_session, order).status_code == 200
    seen += await _until(call, lambda watched: watched.ready_for_payment)
    held = seen[-1]
    # Until when the car is held is what inventory's reservation says.
    reservation = edge.get(f"/inventory/{vehicle['name']}").json()["reservation"]
    assert held.vehicle_reserved and held.HasField("held_until")
    assert held.held_until.ToJsonString() == reservation["expire_time"]

    assert pay(edge, client_session, order).status_code == 200
    seen += await _until(call, lambda watched: watched.status == sales_pb2.ORDER_STATUS_PAID)
    assert not seen[-1].HasField("held_until")
    handed_over = edge.post(f"/sales/{order['name']}:complete", headers=bearer(manager_session), json={})
    assert handed_over.status_code == 200, handed_over.text
    seen += await _until(call, lambda watched: watched.status == sales_pb2.ORDER_STATUS_COMPLETED)

    assert await _next(call) is grpc.aio.EOF and await call.code() == grpc.StatusCode.OK
    assert _steps([watched.status for watched in seen]) == [
        sales_pb2.ORDER_STATUS_DRAFT, sales_pb2.ORDER_STATUS_CONFIRMED, sales_pb2.ORDER_STATUS_PAID,
        sales_pb2.ORDER_STATUS_COMPLETED]
    etags = [int(watched.etag) for watched in seen]
    assert etags == sorted(set(etags)), "each message is a change, in order"


def test_an_order_watched_over_rest_comes_a_line_at_a_time_until_it_is_cancelled(
        edge, client_session, manager_session):
    order = draft(edge, client_session, new_vehicle(edge, manager_session))
    with edge.stream("GET", f"/sales/{order['name']}:watch", headers=bearer(client_session)) as answer:
        assert answer.status_code == 200
        lines = answer.iter_lines()
        first = json.loads(next(lines))
        assert (first["name"], first["status"]) == (order["name"], "ORDER_STATUS_DRAFT")
        cancelled = edge.post(f"/sales/{order['name']}:cancel", headers=bearer(client_session),
                              json={"reason": "changed my mind"})
        assert cancelled.status_code == 200, cancelled.text
        # The stream ends at the final state: reading to its end returns.
        rest = [json.loads(line) for line in lines if line.strip()]
    assert [(watched["status"], watched["cancel_reason"]) for watched in rest] == [
        ("ORDER_STATUS_CANCELLED", "changed my mind")]


async def test_only_the_buyer_or_staff_may_watch_an_order_as_they_may_read_it(
        edge, edge_channel, client_session, manager_session, stranger):
    order = draft(edge, client_session, new_vehicle(edge, manager_session))
    stub = sales_pb2_grpc.SalesServiceStub(edge_channel)

    async def refusal(name: str, who: dict | None) -> grpc.aio.AioRpcError:
        call = stub.WatchOrder(sales_pb2.WatchOrderRequest(name=name), metadata=_metadata(who) if who else ())
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await _next(call)
        return refused.value

    for name, who in ((order["name"], stranger), (f"orders/{uuid.uuid4()}", client_session)):
        refused = await refusal(name, who)
        assert refused.code() == grpc.StatusCode.NOT_FOUND and grpc_reason(refused) == "NOT_FOUND"
    assert (await refusal(order["name"], None)).code() == grpc.StatusCode.UNAUTHENTICATED
    assert (await refusal("orders/not-a-uuid", client_session)).code() == grpc.StatusCode.INVALID_ARGUMENT

    staff = stub.WatchOrder(sales_pb2.WatchOrderRequest(name=order["name"]), metadata=_metadata(manager_session))
    assert (await _next(staff)).name == order["name"]
    staff.cancel()

    for name in (order["name"], f"orders/{uuid.uuid4()}"):
        answer = edge.get(f"/sales/{name}:watch", headers=bearer(stranger))
        assert answer.status_code == 404 and json_reason(answer) == "NOT_FOUND", answer.text
    assert edge.get(f"/sales/{order['name']}:watch").status_code == 401


async def test_a_payment_watched_shows_each_status_until_it_is_settled_and_only_to_its_payer_or_staff(
        edge, edge_channel, client_session, manager_session, stranger):
    order = confirmed_and_ready(edge, client_session, new_vehicle(edge, manager_session))
    created = pay(edge, client_session, order, card="", method="PAYMENT_METHOD_BANK_TRANSFER")
    assert created.status_code == 200, created.text
    payment = created.json()
    stub = payment_pb2_grpc.PaymentServiceStub(edge_channel)
    call = stub.WatchPayment(payment_pb2.WatchPaymentRequest(name=payment["name"]), metadata=_metadata(client_session))
    seen = [await _next(call)]
    assert seen[0].status == payment_pb2.PAYMENT_STATUS_PENDING

    def move(status: str) -> None:
        moved = edge.post(f"/{payment['name']}:updateStatus", headers=bearer(manager_session),
                          json={"status": status, "bank_reference": "BT-WATCH"})
        assert moved.status_code == 200, moved.text

    move("PAYMENT_STATUS_PROCESSING")
    seen += await _until(call, lambda watched: watched.status == payment_pb2.PAYMENT_STATUS_PROCESSING)
    move("PAYMENT_STATUS_COMPLETED")
    seen += await _until(call, lambda watched: watched.status == payment_pb2.PAYMENT_STATUS_COMPLETED)
    assert await _next(call) is grpc.aio.EOF and await call.code() == grpc.StatusCode.OK
    assert _steps([watched.status for watched in seen]) == [
        payment_pb2.PAYMENT_STATUS_PENDING, payment_pb2.PAYMENT_STATUS_PROCESSING,
        payment_pb2.PAYMENT_STATUS_COMPLETED]
    assert seen[-1].bank_reference == "BT-WATCH"

    refused = stub.WatchPayment(payment_pb2.WatchPaymentRequest(name=payment["name"]), metadata=_metadata(stranger))
    with pytest.raises(grpc.aio.AioRpcError) as not_theirs:
        await _next(refused)
    assert not_theirs.value.code() == grpc.StatusCode.NOT_FOUND
    missing = edge.get(f"/payments/{uuid.uuid4()}:watch", headers=bearer(client_session))
    assert missing.status_code == 404 and json_reason(missing) == "NOT_FOUND"
    # Settled already: staff watching it get it once, and the stream ends.
    with edge.stream("GET", f"/{payment['name']}:watch", headers=bearer(manager_session)) as answer:
        lines = [json.loads(line) for line in answer.iter_lines() if line.strip()]
    assert answer.status_code == 200 and [line["status"] for line in lines] == ["PAYMENT_STATUS_COMPLETED"]
