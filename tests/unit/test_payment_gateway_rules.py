"""The payment gateway emulator's rules: Luhn, which cards the issuer declines, refunds."""
import grpc
import pytest

from paymentgateway.v1 import gateway_pb2
from services.emulators.payment_gateway import Gateway, decide
from services.peers.payment import luhn_valid


@pytest.mark.parametrize("number", ["4111111111111111", "4000000000000002", "5555555555554444"])
def test_valid_card_numbers(number):
    assert luhn_valid(number)


@pytest.mark.parametrize("number", ["4111111111111112", "1234", "4111-1111-1111-1111", ""])
def test_invalid_card_numbers(number):
    assert not luhn_valid(number)


def test_issuer_decisions():
    assert decide("4111111111111111") == (gateway_pb2.GATEWAY_STATUS_APPROVED, "", gateway_pb2.DECLINE_CODE_UNSPECIFIED)
    assert decide("4000000000000002") == (gateway_pb2.GATEWAY_STATUS_DECLINED, "card declined by issuer",
                                          gateway_pb2.DECLINE_CODE_CARD_DECLINED)
    assert decide("4000000000009995") == (gateway_pb2.GATEWAY_STATUS_DECLINED, "insufficient funds",
                                          gateway_pb2.DECLINE_CODE_INSUFFICIENT_FUNDS)


class _Aborted(Exception):
    def __init__(self, code: grpc.StatusCode, details: str):
        super().__init__(details)
        self.code = code


class _Context:
    def invocation_metadata(self):
        return (("x-request-id", "unit-test"),)

    async def abort(self, code, details):
        raise _Aborted(code, details)


async def _charge(gateway: Gateway, transaction_id: str, card: str):
    return await gateway.ProcessPayment(gateway_pb2.ProcessPaymentRequest(
        transaction_id=transaction_id, amount="10.00", currency_code="RUB", card_number=card), _Context())


async def test_an_approved_charge_is_refunded_once():
    gateway = Gateway(latency_seconds=0, failure_rate=0)
    await _charge(gateway, "tx-1", "4111111111111111")
    first = await gateway.RefundPayment(gateway_pb2.RefundPaymentRequest(transaction_id="tx-1"), _Context())
    again = await gateway.RefundPayment(gateway_pb2.RefundPaymentRequest(transaction_id="tx-1"), _Context())
    assert first.status == gateway_pb2.GATEWAY_STATUS_REFUNDED and first.refund_reference.startswith("RF-")
    assert again.refund_reference == first.refund_reference
    status = await gateway.CheckPaymentStatus(gateway_pb2.CheckPaymentStatusRequest(transaction_id="tx-1"), _Context())
    assert (status.status, status.refund_reference) == (gateway_pb2.GATEWAY_STATUS_REFUNDED, first.refund_reference)
    assert status.bank_reference


async def test_a_declined_or_unknown_charge_cannot_be_refunded():
    gateway = Gateway(latency_seconds=0, failure_rate=0)
    await _charge(gateway, "tx-declined", "4000000000000002")
    with pytest.raises(_Aborted) as refused:
        await gateway.RefundPayment(gateway_pb2.RefundPaymentRequest(transaction_id="tx-declined"), _Context())
    assert refused.value.code == grpc.StatusCode.FAILED_PRECONDITION
    with pytest.raises(_Aborted) as unknown:
        await gateway.RefundPayment(gateway_pb2.RefundPaymentRequest(transaction_id="tx-never"), _Context())
    assert unknown.value.code == grpc.StatusCode.NOT_FOUND
