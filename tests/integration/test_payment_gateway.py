"""The payment gateway emulator as the mesh runs it: a real gRPC server."""
import asyncio
import json
import uuid

import grpc
import pytest

from paymentgateway.v1 import gateway_pb2, gateway_pb2_grpc
from scripts.mesh.layout import GATEWAY_ADDR, LOGS
from services.kit import logs
from services.payment.gateway import Gateway


@pytest.fixture
async def gateway(mesh):
    async with grpc.aio.insecure_channel(GATEWAY_ADDR) as channel:
        yield gateway_pb2_grpc.PaymentGatewayServiceStub(channel)


async def test_a_charge_is_idempotent_by_transaction_id(gateway):
    request = gateway_pb2.ProcessPaymentRequest(
        transaction_id="it-charge-1", amount="1000.00", currency_code="RUB",
        card_number="4111111111111111")
    first = await gateway.ProcessPayment(request)
    assert first.status == gateway_pb2.GATEWAY_STATUS_APPROVED and first.bank_reference
    assert await gateway.ProcessPayment(request) == first
    status = await gateway.CheckPaymentStatus(
        gateway_pb2.CheckPaymentStatusRequest(transaction_id="it-charge-1"))
    assert status.bank_reference == first.bank_reference


async def test_declines_and_bad_numbers(gateway):
    declined = await gateway.ProcessPayment(gateway_pb2.ProcessPaymentRequest(
        transaction_id="it-charge-2", amount="1.00", currency_code="RUB",
        card_number="4000000000000002"))
    assert declined.status == gateway_pb2.GATEWAY_STATUS_DECLINED
    with pytest.raises(grpc.aio.AioRpcError) as bad:
        await gateway.ProcessPayment(gateway_pb2.ProcessPaymentRequest(
            transaction_id="it-charge-3", amount="1.00", card_number="4111111111111112"))
    assert bad.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    with pytest.raises(grpc.aio.AioRpcError) as unknown:
        await gateway.CheckPaymentStatus(gateway_pb2.CheckPaymentStatusRequest(transaction_id="nope"))
    assert unknown.value.code() == grpc.StatusCode.NOT_FOUND


async def test_a_charge_carries_the_trace_id_to_the_gateway(mesh):
    """payment's client sends the trace id; the emulator's log line of the charge has it."""
    trace_id, transaction = f"trace-{uuid.uuid4().hex}", f"it-traced-{uuid.uuid4().hex[:8]}"
    client = Gateway(GATEWAY_ADDR, fail_max=3, reset_timeout=5)
    token = logs.trace_id_var.set(trace_id)
    try:
        assert (await client.charge(transaction, "10.00", "RUB", "4111111111111111")).approved
    finally:
        logs.trace_id_var.reset(token)
        await client.close()

    def logged() -> list[dict]:
        lines = (LOGS / "payment-gateway.log").read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines if transaction in line]

    for _ in range(50):
        if logged():
            break
        await asyncio.sleep(0.1)
    assert [line["trace_id"] for line in logged()] == [trace_id]
