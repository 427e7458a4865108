"""An order paid in parts, against a real PostgreSQL and a real gRPC gateway (the emulator, on a
port of its own): whatever the keys and however many at once, an order's payments never add up
to more than its total, and each success tells what the order's completed payments add up to."""
import asyncio
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest

from autosalon.common.v1 import common_pb2
from autosalon.payment.v1 import payment_pb2
from autosalon.sales.v1 import sales_pb2
from paymentgateway.v1 import gateway_pb2_grpc
from services.emulators.payment_gateway import Gateway as GatewayEmulator
from services.kit.bus import payload
from services.kit.errors import AlreadyExists, FailedPrecondition
from services.kit.idempotency import IdempotencyKey
from services.kit.identity import Identity
from services.payment import domain, store
from services.payment.gateway import Gateway
from services.payment.handlers import PaymentHandlers

from .conftest import migrated_database
from .outside import Outside

BUYER = Identity(str(uuid.uuid4()), "client", "buyer@example.ru", "t")
CARD = "4111 1111 1111 1111"
TOTAL = "2399000.00"


class Sales:
    """sales behind kit.calls.Peers: a confirmed order ready for payment."""

    def __init__(self, order: str):
        self.order = sales_pb2.Order(
            name=order, customer=BUYER.user_name, status=sales_pb2.ORDER_STATUS_CONFIRMED, vehicle_reserved=True,
            promo_code_redeemed=True, ready_for_payment=True, total=common_pb2.Money(currency_code="RUB", amount=TOTAL))

    async def call(self, service, stub, method, request, **options):
        return self.order


@pytest.fixture
async def parts(mesh):
    gateway = Outside(GatewayEmulator(latency_seconds=0.02, failure_rate=0),
                      gateway_pb2_grpc.add_PaymentGatewayServiceServicer_to_server)
    await gateway.up()
    order = f"orders/{uuid.uuid4()}"
    async with migrated_database(mesh, "payment", store.outbox, store.PaymentRepository) as database:
        client = Gateway(gateway.address, fail_max=2, reset_timeout=0.5, timeout=2.0)
        yield PaymentHandlers(database, Sales(order), client, orphan_after=timedelta(minutes=15)), order, database
        await client.close()
    await gateway.down()


async def _pay(handlers, order, amount: str | None, method=domain.CARD):
    return await handlers.create(BUYER, order, method, CARD if method == domain.CARD else "",
                                 IdempotencyKey(uuid.uuid4().hex, "a request"), Decimal(amount) if amount else None)


async def test_many_payments_at_once_never_add_up_to_more_than_the_total(parts):
    handlers, order, database = parts
    # Twenty buyers' tabs pay 500,000 each at once: at most four fit in 2,399,000.
    results = await asyncio.gather(*(_pay(handlers, order, "500000.00") for _ in range(20)), return_exceptions=True)
    made = [result for result in results if isinstance(result, payment_pb2.Payment)]
    refused = [result for result in results if not isinstance(result, payment_pb2.Payment)]
    assert len(made) == 4 and all(isinstance(error, FailedPrecondition) for error in refused), refused[:1]
    async with database.reading() as uow:
        sums = await uow.repository.order_sums(order)
    assert sums.held == sums.paid == Decimal("2000000.00")
    rest = await _pay(handlers, order, None)
    assert rest.amount.amount == "399000.00" and rest.status == payment_pb2.PAYMENT_STATUS_COMPLETED
    with pytest.raises(AlreadyExists):
        await _pay(handlers, order, None)


async def test_each_success_tells_what_the_orders_completed_payments_add_up_to(parts):
    handlers, order, database = parts
    cash = await _pay(handlers, order, "399000.00", method=domain.CASH)
    await _pay(handlers, order, None)
    await handlers.update_status(Identity(str(uuid.uuid4()), "manager", "m@autosalon.local", "t"),
                                 uuid.UUID(cash.name.split("/")[1]), domain.PROCESSING, "", "")
    await handlers.update_status(Identity(str(uuid.uuid4()), "manager", "m@autosalon.local", "t"),
                                 uuid.UUID(cash.name.split("/")[1]), domain.COMPLETED, "", "CASH-1")
    successes = [payload(common_pb2.EventEnvelope.FromString(row.envelope), payment_pb2.PaymentEvent)
                 for row in await _outbox(database, "payment.succeeded")]
    assert [event.order_paid.amount for event in successes] == ["2000000.00", TOTAL]


async def _outbox(database, event: str) -> list:
    """The outbox rows of `event`, in order (no relay runs here: they stay)."""
    query = store.outbox.select().where(store.outbox.c.subject.endswith(f".{event}")).order_by(store.outbox.c.seq)
    async with database.reading() as uow:
        return list(await uow.connection.execute(query))
