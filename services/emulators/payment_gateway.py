"""The emulated card payment gateway (paymentgateway.v1.PaymentGatewayService).

Settings: EmulatorSettings below. Cards ending in 0002 are declined by the issuer, in 9995 for insufficient funds; a
number failing the Luhn check is INVALID_ARGUMENT. An approved charge can be refunded, once.
Transactions are kept in memory: a restart forgets them, as a test environment of a real
gateway might. A caller's x-request-id is the trace id of the emulator's log lines.
"""
import logging
import secrets
from dataclasses import dataclass

import grpc

from paymentgateway.v1 import gateway_pb2, gateway_pb2_grpc
from services.kit import server, settings
from services.peers.payment import luhn_valid

from .serving import behave_like_a_network, serve

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EmulatorSettings:
    address: str = settings.setting("127.0.0.1:7101", "AUTOSALON_GATEWAY_ADDR", "where the emulator listens")
    latency_ms: float = settings.setting(50.0, "AUTOSALON_GATEWAY_LATENCY_MS", "how long each answer takes",
                                         minimum=0)
    failure_rate: float = settings.setting(0.0, "AUTOSALON_GATEWAY_FAILURE_RATE",
                                           "the share of calls answered UNAVAILABLE, as a gateway outage",
                                           minimum=0, maximum=1)

DECLINES = {
    "0002": ("card declined by issuer", gateway_pb2.DECLINE_CODE_CARD_DECLINED),
    "9995": ("insufficient funds", gateway_pb2.DECLINE_CODE_INSUFFICIENT_FUNDS),
}


def decide(card_number: str) -> tuple[int, str, int]:
    """(status, decline reason, decline code) the issuer gives a valid card number."""
    reason, code = DECLINES.get(card_number[-4:], ("", gateway_pb2.DECLINE_CODE_UNSPECIFIED))
    if reason:
        return gateway_pb2.GATEWAY_STATUS_DECLINED, reason, code
    return gateway_pb2.GATEWAY_STATUS_APPROVED, "", code


class Gateway(gateway_pb2_grpc.PaymentGatewayServiceServicer):
    def __init__(self, latency_seconds: float, failure_rate: float):
        self.latency = latency_seconds
        self.failure_rate = failure_rate
        self.transactions: dict[str, gateway_pb2.ProcessPaymentResponse] = {}
        self.refunds: dict[str, str] = {}

    async def _behave_like_a_network(self, context) -> None:
        await behave_like_a_network(context, self.latency, self.failure_rate, "gateway temporarily unavailable")

    async def ProcessPayment(self, request, context):
        await self._behave_like_a_network(context)
        if not 1 <= len(request.transaction_id) <= 100:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "transaction_id: 1 to 100 characters")
        done = self.transactions.get(request.transaction_id)
        if done is not None:
            return done
        if not luhn_valid(request.card_number):
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "card_number fails the Luhn check")
        status, reason, code = decide(request.card_number)
        response = gateway_pb2.ProcessPaymentResponse(
            transaction_id=request.transaction_id, status=status, decline_reason=reason, decline_code=code,
            bank_reference=f"BR-{secrets.token_hex(6).upper()}" if not reason else "")
        self.transactions[request.transaction_id] = response
        log.info("payment %s: %s", request.transaction_id,
                 gateway_pb2.GatewayStatus.Name(status))
        return response

    async def _known(self, transaction_id: str, context) -> gateway_pb2.ProcessPaymentResponse:
        done = self.transactions.get(transaction_id)
        if done is None:
            await context.abort(grpc.StatusCode.NOT_FOUND, f"no transaction {transaction_id}")
        return done

    async def CheckPaymentStatus(self, request, context):
        await self._behave_like_a_network(context)
        done = await self._known(request.transaction_id, context)
        refund = self.refunds.get(request.transaction_id, "")
        return gateway_pb2.CheckPaymentStatusResponse(
            transaction_id=done.transaction_id,
            status=gateway_pb2.GATEWAY_STATUS_REFUNDED if refund else done.status,
            bank_reference=done.bank_reference, decline_reason=done.decline_reason,
            decline_code=done.decline_code, refund_reference=refund)

    async def RefundPayment(self, request, context):
        await self._behave_like_a_network(context)
        done = await self._known(request.transaction_id, context)
        if done.status != gateway_pb2.GATEWAY_STATUS_APPROVED:
            await context.abort(grpc.StatusCode.FAILED_PRECONDITION,
                                f"transaction {request.transaction_id} was declined; nothing to refund")
        refund = self.refunds.setdefault(request.transaction_id, f"RF-{secrets.token_hex(6).upper()}")
        log.info("payment %s: refunded", request.transaction_id)
        return gateway_pb2.RefundPaymentResponse(
            transaction_id=request.transaction_id, status=gateway_pb2.GATEWAY_STATUS_REFUNDED,
            refund_reference=refund)


async def main() -> None:
    own = settings.load(EmulatorSettings)
    await serve("payment-gateway", own.address, Gateway(own.latency_ms / 1000, own.failure_rate),
                gateway_pb2_grpc.add_PaymentGatewayServiceServicer_to_server,
                gateway_pb2.DESCRIPTOR.services_by_name["PaymentGatewayService"])


if __name__ == "__main__":
    server.run(main)
