"""The runtime's wiring: periodic tasks, and the routes a consumer is declared with."""
import asyncio

import pytest

from autosalon.sales.v1 import sales_pb2
from services.kit import runtime
from services.kit.consumers import Route, consume, handle_delivery

from ..deliveries import Delivery


async def test_a_periodic_task_runs_again_at_once_while_work_is_waiting_then_waits(monkeypatch):
    slept, results = [], iter([3, 1, 0, 2, 0])
    real_sleep = asyncio.sleep

    async def sleep(seconds):
        slept.append(seconds)
        if len(slept) == 2:
            raise asyncio.CancelledError
        await real_sleep(0)

    monkeypatch.setattr(runtime.asyncio, "sleep", sleep)
    runs = []

    async def task():
        runs.append(1)
        return next(results)

    with pytest.raises(asyncio.CancelledError):
        await runtime.repeat(task, 7, "the test task")
    assert len(runs) == 5 and slept == [7, 7]


async def test_a_failed_pass_is_reported_and_tried_again_after_the_pause(monkeypatch, caplog):
    slept = []

    async def sleep(seconds):
        slept.append(seconds)
        if len(slept) == 2:
            raise asyncio.CancelledError

    monkeypatch.setattr(runtime.asyncio, "sleep", sleep)

    async def task():
        raise RuntimeError("the gateway said no")

    with pytest.raises(asyncio.CancelledError):
        await runtime.repeat(task, 5, "the payment queue")
    assert slept == [5, 5]
    assert "the payment queue failed; trying again" in caplog.text


async def test_a_consumer_reads_one_services_stream():
    async def apply(uow, event, envelope):
        return None

    routes = {"autosalon.sales.order.paid": Route(sales_pb2.OrderChanged, apply),
              "autosalon.payment.payment.failed": Route(sales_pb2.OrderChanged, apply)}
    with pytest.raises(ValueError, match="one service's stream"):
        await consume(database=None, bus=None, durable="mixed", routes=routes)


@pytest.mark.parametrize("kind, order", [
    ("autosalon.sales.order.updated", sales_pb2.Order(promo_code="SPRING")),  # no longer routed
    ("autosalon.sales.order.confirmed", sales_pb2.Order()),  # routed, but not wanted
])
async def test_an_event_that_asks_nothing_is_acked_without_a_unit_of_work(kind, order):
    applied = []

    async def apply(uow, event, envelope):
        applied.append(event)

    routes = {"autosalon.sales.order.confirmed": Route(sales_pb2.OrderChanged, apply,
                                                       wanted=lambda event: bool(event.order.promo_code))}
    delivery = Delivery(kind=kind, payload=sales_pb2.OrderChanged(order=order))
    # No database at all: touching it would fail the delivery (a nak).
    await handle_delivery(None, "test.saga", routes, delivery)
    assert (delivery.acks, delivery.naks) == (1, 0) and applied == []
