"""The external card gateway, called over gRPC through a circuit breaker.

The gateway is an outside system, not in Consul: its address comes from the environment.
Only outages (UNAVAILABLE, deadlines) count against the breaker; a declined card is an answer.
Each call carries the trace id as x-request-id, so the gateway's records of a charge can be
matched with ours.
"""
from dataclasses import dataclass

import grpc

from paymentgateway.v1 import gateway_pb2, gateway_pb2_grpc
from services.kit import calls

from . import domain


# A declined charge's reason for a program (Payment.failure_code), by the gateway's decline code.
FAILURE_CODES = {
    gateway_pb2.DECLINE_CODE_CARD_DECLINED: domain.CARD_DECLINED,
    gateway_pb2.DECLINE_CODE_INSUFFICIENT_FUNDS: domain.INSUFFICIENT_FUNDS,
}


@dataclass(frozen=True)
class Outcome:
    """What the gateway says of a charge; `known` is False when it never saw it."""
    known: bool
    approved: bool = False
    bank_reference: str = ""
    decline_reason: str = ""
    # One of FAILURE_CODES' reasons, or GATEWAY_REFUSED; empty unless declined.
    failure_code: str = ""


class Gateway:
    def __init__(self, address: str, fail_max: int, reset_timeout: float, timeout: float = 5.0):
        self._outside = calls.Outside("the payment gateway", address, gateway_pb2_grpc.PaymentGatewayServiceStub,
                                      fail_max, reset_timeout, timeout)

    def limit(self, fail_max: int, reset_timeout: float) -> None:
        self._outside.limit(fail_max, reset_timeout)

    async def charge(self, transaction_id: str, amount: str, currency: str, card_number: str) -> Outcome:
        """Charges once per transaction id, however often it is called."""
        try:
            answer = await self._outside.call("ProcessPayment", gateway_pb2.ProcessPaymentRequest(
                transaction_id=transaction_id, amount=amount, currency_code=currency,
                card_number=card_number))
        except grpc.aio.AioRpcError as error:
            # The gateway refused the request itself (e.g. a card number it does not accept).
            return Outcome(known=True, decline_reason=f"rejected by the gateway: {error.details()}",
                           failure_code=domain.GATEWAY_REFUSED)
        return _outcome(answer)

    async def status(self, transaction_id: str) -> Outcome:
        try:
            answer = await self._outside.call("CheckPaymentStatus", gateway_pb2.CheckPaymentStatusRequest(
                transaction_id=transaction_id))
        except grpc.aio.AioRpcError as error:
            if error.code() == grpc.StatusCode.NOT_FOUND:
                return Outcome(known=False)
            raise
        return _outcome(answer)

    async def refund(self, transaction_id: str) -> tuple[str, str]:
        """Gives back an approved charge, once however often it is called: (refund reference,
        "") when done, ("", why) when the gateway refuses it."""
        try:
            answer = await self._outside.call("RefundPayment", gateway_pb2.RefundPaymentRequest(
                transaction_id=transaction_id))
        except grpc.aio.AioRpcError as error:
            return "", f"the gateway refused the refund: {error.details()}"
        return answer.refund_reference, ""

    async def close(self) -> None:
        await self._outside.close()


def _outcome(answer) -> Outcome:
    approved = answer.status == gateway_pb2.GATEWAY_STATUS_APPROVED
    declined = answer.status == gateway_pb2.GATEWAY_STATUS_DECLINED
    return Outcome(known=True, approved=approved, bank_reference=answer.bank_reference,
                   decline_reason=answer.decline_reason,
                   failure_code=FAILURE_CODES.get(answer.decline_code, domain.CARD_DECLINED) if declined else "")
