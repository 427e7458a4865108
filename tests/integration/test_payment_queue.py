"""payment's gateway breaker and pending queue, against a real PostgreSQL and a real gRPC
gateway (the emulator, started here on a port of its own so the test can take it away)."""
import asyncio
import uuid
from datetime import timedelta
from decimal import Decimal

import grpc
import pytest
import sqlalchemy as sa

from autosalon.common.v1 import common_pb2
from autosalon.payment.v1 import payment_pb2
from autosalon.sales.v1 import sales_pb2
from paymentgateway.v1 import gateway_pb2, gateway_pb2_grpc
from services.emulators.payment_gateway import Gateway as GatewayEmulator
from services.kit.db import now
from services.kit.errors import FailedPrecondition, Unavailable
from services.kit.idempotency import IdempotencyKey
from services.kit.identity import Identity
from services.payment import store
from services.payment.gateway import Gateway
from services.payment.handlers import PaymentHandlers

from .conftest import migrated_database
from .outside import Outside


@pytest.fixture
async def outage():
    gateway = Outside(GatewayEmulator(latency_seconds=0, failure_rate=0),
                      gateway_pb2_grpc.add_PaymentGatewayServiceServicer_to_server)
    yield gateway
    await gateway.down()


@pytest.fixture
async def payments(mesh, outage):
    async with migrated_database(mesh, "payment", store.outbox, store.PaymentRepository) as database:
        client = Gateway(outage.address, fail_max=2, reset_timeout=0.5, timeout=1.0)
        yield PaymentHandlers(database, None, client, orphan_after=timedelta(minutes=15))
        await client.close()


async def _pending_card_payment(handlers: PaymentHandlers, card: str | None, age=timedelta(0)) -> uuid.UUID:
    created = now() - age - timedelta(seconds=2)
    row = {
        "id": uuid.uuid4(), "order_id": f"orders/{uuid.uuid4()}", "customer": "users/u",
        "amount": Decimal("1500000.00"), "currency": "RUB", "method": "card", "status": "pending",
        "transaction_id": f"AS-{uuid.uuid4().hex}", "card_last_four": "1111", "bank_reference": "",
        "application": "", "order_total": Decimal("1500000.00"),
        "failure_reason": "", "idempotency_key": uuid.uuid4().hex, "idempotency_request": "", "created_at": created,
        "updated_at": created, "created_by": "users/u", "updated_by": "users/u",
    }
    async with handlers.database.unit_of_work() as uow:
        await uow.repository.add(row)
    if card:
        handlers.cards[row["id"]] = card
    return row["id"]


async def _status(handlers: PaymentHandlers, payment_id: uuid.UUID) -> str:
    async with handlers.database.unit_of_work() as uow:
        return (await uow.repository.by_id(payment_id)).status


async def _events(handlers: PaymentHandlers) -> list[str]:
    async with handlers.database.unit_of_work() as uow:
        rows = await uow.connection.execute(sa.select(store.outbox.c.subject).order_by(store.outbox.c.seq))
        return [row.subject.split(".", 2)[2] for row in rows]


async def test_the_breaker_opens_on_an_outage_and_closes_when_the_gateway_is_back(outage):
    client = Gateway(outage.address, fail_max=2, reset_timeout=0.5, timeout=1.0)
    try:
        for _ in range(2):
            with pytest.raises(Unavailable):
                await client.status("tx-1")
        with pytest.raises(Unavailable, match="circuit open"):
            await client.status("tx-1")
        await outage.up()
        await asyncio.sleep(0.6)
        assert not (await client.status("tx-1")).known
        approved = await client.charge("tx-1", "10.00", "RUB", "4111111111111111")
        assert approved.approved and approved.bank_reference
    finally:
        await client.close()


async def test_queued_payments_wait_for_the_gateway_and_are_charged_once(payments, outage):
    payment_id = await _pending_card_payment(payments, "4111111111111111")
    assert await payments.drain_queue() == 0
    assert await _status(payments, payment_id) == "pending"
    await outage.up()
    await asyncio.sleep(0.6)
    assert await payments.drain_queue() == 1
    assert await _status(payments, payment_id) == "completed"
    assert payment_id not in payments.cards
    assert await payments.drain_queue() == 0
    assert await _events(payments) == ["payment.succeeded"]
    assert len(outage.emulator.transactions) == 1


async def test_a_charge_the_gateway_took_before_a_crash_is_recorded_not_repeated(payments, outage):
    await outage.up()
    payment_id = await _pending_card_payment(payments, card=None)
    async with payments.database.unit_of_work() as uow:
        transaction_id = (await uow.repository.by_id(payment_id)).transaction_id
    async with grpc.aio.insecure_channel(outage.address) as channel:
        await gateway_pb2_grpc.PaymentGatewayServiceStub(channel).ProcessPayment(
            gateway_pb2.ProcessPaymentRequest(transaction_id=transaction_id, amount="1500000.00",
                                              currency_code="RUB", card_number="4000000000000002"))
    assert await payments.drain_queue() == 1
    async with payments.database.unit_of_work() as uow:
        row = await uow.repository.by_id(payment_id)
    assert row.status == "failed" and row.failure_reason == "card declined by issuer"
    assert await _events(payments) == ["payment.failed"]
    assert len(outage.emulator.transactions) == 1


async def test_a_queued_payment_whose_card_was_lost_is_cancelled_after_a_while(payments, outage):
    await outage.up()
    fresh = await _pending_card_payment(payments, card=None)
    orphan = await _pending_card_payment(payments, card=None, age=timedelta(minutes=20))
    assert await payments.drain_queue() == 1
    assert await _status(payments, fresh) == "pending"
    assert await _status(payments, orphan) == "cancelled"
    assert await _events(payments) == ["payment.cancelled"]
    assert outage.emulator.transactions == {}


async def test_an_old_queued_payment_another_instance_holds_the_card_of_is_not_cancelled(payments, outage, mesh):
    """Two instances: the one that took the request holds the card while the gateway is away;
    the other must not take it for a card lost in a restart, however old the payment."""
    holder = payments
    other = PaymentHandlers(holder.database, None, holder.gateway, orphan_after=timedelta(minutes=15))
    queued = await _pending_card_payment(holder, "4111111111111111", age=timedelta(minutes=20))
    assert await holder.drain_queue() == 0  # the gateway is away: the holder vouches, and waits
    await outage.up()
    await asyncio.sleep(0.6)
    assert await other.drain_queue() == 0
    assert await _status(other, queued) == "pending"
    assert await holder.drain_queue() == 1
    assert await _status(holder, queued) == "completed" and queued not in holder.cards


async def test_a_card_is_forgotten_once_another_instance_settled_its_payment(payments, outage):
    await outage.up()
    settled_elsewhere = await _pending_card_payment(payments, "4111111111111111")
    async with payments.database.unit_of_work() as uow:
        await uow.connection.execute(store.payments.update().where(store.payments.c.id == settled_elsewhere)
                                     .values(status="cancelled"))
    await payments.drain_queue()
    assert settled_elsewhere not in payments.cards


async def _order_cancelled(handlers: PaymentHandlers, payment_id: uuid.UUID) -> None:
    async with handlers.database.unit_of_work() as uow:
        order = (await uow.repository.by_id(payment_id)).order_id
        await handlers.order_cancelled(uow, order)


async def _row(handlers: PaymentHandlers, payment_id: uuid.UUID):
    async with handlers.database.reading() as uow:
        return await uow.repository.by_id(payment_id)


async def test_a_paid_order_cancelled_meanwhile_is_refunded_once_even_across_an_outage(payments, outage):
    await outage.up()
    payment_id = await _pending_card_payment(payments, "4111111111111111")
    assert await payments.drain_queue() == 1
    await outage.down()
    await _order_cancelled(payments, payment_id)
    assert await _status(payments, payment_id) == "refunding"
    assert await payments.drain_queue() == 0
    assert await _status(payments, payment_id) == "refunding"
    await outage.up()
    await asyncio.sleep(0.6)
    assert await payments.drain_queue() == 1
    refunded = await _row(payments, payment_id)
    assert refunded.status == "refunded"
    assert refunded.refund_reference == outage.emulator.refunds[refunded.transaction_id]
    assert await payments.drain_queue() == 0
    await _order_cancelled(payments, payment_id)
    assert await _status(payments, payment_id) == "refunded"
    assert await _events(payments) == ["payment.succeeded", "payment.refunding", "payment.refunded"]
    assert len(outage.emulator.refunds) == 1


async def test_a_charge_landing_after_its_order_was_cancelled_is_refunded(payments, outage):
    await outage.up()
    outage.emulator.latency = 0.3
    payment_id = await _pending_card_payment(payments, "4111111111111111")
    charging = asyncio.create_task(payments._charge(await _row(payments, payment_id)))
    await asyncio.sleep(0.1)
    await _order_cancelled(payments, payment_id)
    assert await _status(payments, payment_id) == "cancelled"
    assert await charging is None  # the cancellation settled it first
    charged = await _row(payments, payment_id)
    assert charged.status == "refunding" and charged.bank_reference
    assert await payments.drain_queue() == 1
    assert await _status(payments, payment_id) == "refunded"
    assert await _events(payments) == ["payment.cancelled", "payment.refunding", "payment.refunded"]


async def test_a_charge_settling_while_its_order_is_cancelled_is_refunded(payments, outage):
    """The gateway's approval is being written (the payment row locked, not yet committed) when
    the order's cancellation arrives: the cancellation waits for it and refunds, never leaving
    the money with a cancelled order."""
    await outage.up()
    payment_id = await _pending_card_payment(payments, "4111111111111111")
    pending = await _row(payments, payment_id)
    approval = await payments.gateway.charge(
        pending.transaction_id, str(pending.amount), pending.currency, "4111111111111111")
    async with payments.database.unit_of_work() as settling:
        repository = settling.repository
        await repository.move(payment_id, "pending", [("processing", "sent to the gateway"), ("completed", "approved")],
                              "gateway", {"bank_reference": approval.bank_reference}, now())
        cancelling = asyncio.create_task(_order_cancelled(payments, payment_id))
        await asyncio.sleep(0.5)  # the cancellation now waits on the payment's row
        assert not cancelling.done()
    await cancelling
    assert await _status(payments, payment_id) == "refunding"
    assert await payments.drain_queue() == 1
    assert await _status(payments, payment_id) == "refunded"
    assert pending.transaction_id in outage.emulator.refunds


async def test_a_refund_the_gateway_refuses_waits_for_staff(payments, outage):
    await outage.up()
    payment_id = await _pending_card_payment(payments, "4111111111111111")
    assert await payments.drain_queue() == 1
    outage.emulator.transactions.clear()
    await _order_cancelled(payments, payment_id)
    assert await payments.drain_queue() == 1
    stuck = await _row(payments, payment_id)
    assert stuck.status == "refunding" and "refused the refund" in stuck.refund_problem
    assert await payments.drain_queue() == 0
    manager = Identity(user_id=str(uuid.uuid4()), role="manager", email="m@autosalon.local", token="")
    refunded = await payments.update_status(manager, payment_id, "refunded", "returned by bank transfer", "")
    assert refunded.status == payment_pb2.PAYMENT_STATUS_REFUNDED
    assert refunded.status_log[-1].reason == "returned by bank transfer"


class _SalesSaysReady:
    """sales as it answered a moment before the order was cancelled: confirmed, ready to pay."""

    async def call(self, service, stub, method, request):
        return sales_pb2.Order(name=request.name, customer="users/u", status=sales_pb2.ORDER_STATUS_CONFIRMED,
                               ready_for_payment=True,
                               total=common_pb2.Money(currency_code="RUB", amount="1500000.00"))


async def test_no_payment_starts_for_an_order_whose_cancellation_was_heard(payments, outage):
    await outage.up()
    order = f"orders/{uuid.uuid4()}"
    async with payments.database.unit_of_work() as uow:
        await payments.order_cancelled(uow, order)
    payments.peers = _SalesSaysReady()
    client = Identity(user_id="u", role="client", email="c@example.ru", token="")
    with pytest.raises(FailedPrecondition, match="cancelled"):
        await payments.create(client, order, "card", "4111111111111111", IdempotencyKey(uuid.uuid4().hex, "a request"))
    assert outage.emulator.transactions == {}


async def test_a_cash_payment_of_a_cancelled_order_waits_for_staff_to_give_it_back(payments, outage):
    await outage.up()
    payment_id = await _pending_card_payment(payments, card=None)
    async with payments.database.unit_of_work() as uow:
        await uow.connection.execute(store.payments.update().where(store.payments.c.id == payment_id)
                                     .values(method="cash", card_last_four="", status="completed"))
    await _order_cancelled(payments, payment_id)
    assert await _status(payments, payment_id) == "refunding"
    assert await payments.drain_queue() == 0
    assert outage.emulator.refunds == {}
    manager = Identity(user_id=str(uuid.uuid4()), role="manager", email="m@autosalon.local", token="")
    refunded = await payments.update_status(manager, payment_id, "refunded", "cash handed back", "")
    assert refunded.status == payment_pb2.PAYMENT_STATUS_REFUNDED
    assert await _events(payments) == ["payment.refunding", "payment.refunded"]


async def _log(handlers: PaymentHandlers, payment_id: uuid.UUID) -> list[tuple[str, str, str]]:
    async with handlers.database.reading() as uow:
        lines = (await uow.repository.log_of([payment_id]))[payment_id]
    return [(line.from_status, line.to_status, line.reason) for line in lines]


async def test_a_move_logs_each_step_in_order_returns_the_whole_log_and_from_a_status_left_behind_writes_nothing(
        payments):
    payment_id = await _pending_card_payment(payments, None)
    assert await _log(payments, payment_id) == [("", "pending", "created")]
    async with payments.database.unit_of_work() as uow:
        repository = uow.repository
        moved, log = await repository.move(payment_id, "pending", [("processing", "sent"), ("completed", "approved")],
                                           "gateway", {"bank_reference": "B-1"}, now())
        assert (moved.status, moved.bank_reference) == ("completed", "B-1")
        assert [line.to_status for line in log] == ["pending", "processing", "completed"], "the whole log, once"
        assert await repository.move(payment_id, "pending", [("cancelled", "too late")], "payment",
                                     {"failure_reason": "too late"}, now()) is None
    assert await _status(payments, payment_id) == "completed"
    assert await _log(payments, payment_id) == [
        ("", "pending", "created"), ("pending", "processing", "sent"), ("processing", "completed", "approved")]
