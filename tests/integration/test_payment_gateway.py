"""The payment gateway emulator as the mesh runs it: a real gRPC server."""
import grpc
import pytest

from paymentgateway.v1 import gateway_pb2, gateway_pb2_grpc
from scripts.mesh.layout import GATEWAY_ADDR


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
