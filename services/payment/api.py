"""payment's gRPC servicer."""
from datetime import timezone

from autosalon.payment.v1 import payment_pb2, payment_pb2_grpc
from services.kit import identity, money
from services.kit.errors import InvalidArgument
from services.kit.identity import ANYONE_SIGNED_IN, STAFF
from services.kit.protos import idempotency_key, referenced_id, resource_id

from .convert import METHOD_NAME, STATUS_NAME
from .handlers import PaymentHandlers

ACCESS = {
    "ListPayments": ANYONE_SIGNED_IN,
    "GetPaymentStats": STAFF,
    "GetPayment": ANYONE_SIGNED_IN,
    "CreatePayment": ANYONE_SIGNED_IN,
    "UpdatePaymentStatus": STAFF,
    "WatchPayment": ANYONE_SIGNED_IN,
}


def _time(stamp):
    return stamp.ToDatetime(tzinfo=timezone.utc) if stamp.seconds or stamp.nanos else None


class PaymentApi(payment_pb2_grpc.PaymentServiceServicer):
    def __init__(self, handlers: PaymentHandlers):
        self.handlers = handlers

    async def ListPayments(self, request, context):
        if request.status and request.status not in STATUS_NAME:
            raise InvalidArgument({"status": "is not a known payment status"})
        order = f"orders/{resource_id(request.order, 'orders', 'order')}" if request.order else ""
        found, token = await self.handlers.list_payments(
            identity.current(), request.status, order, request.page_size, request.page_token)
        return payment_pb2.ListPaymentsResponse(payments=found, next_page_token=token)

    async def GetPaymentStats(self, request, context):
        start, end = _time(request.start_time), _time(request.end_time)
        if start and end and end <= start:
            raise InvalidArgument({"end_time": "must be after start_time"})
        return await self.handlers.stats(start, end)

    async def GetPayment(self, request, context):
        return await self.handlers.get(identity.current(), resource_id(request.name, "payments"))

    def WatchPayment(self, request, context):
        return self.handlers.watch(identity.current(), resource_id(request.name, "payments"))

    async def CreatePayment(self, request, context):
        if request.policy and request.order_id:
            raise InvalidArgument({"policy": "pays a policy instead of an order: leave order_id empty"})
        payable = (f"policies/{resource_id(request.policy, 'policies', 'policy')}" if request.policy
                   else f"orders/{referenced_id(request.order_id, 'orders', 'order_id')}")
        problems = []
        if request.method not in METHOD_NAME:
            problems.append(("method", "must be card, bank_transfer, cash or credit"))
        key = idempotency_key(context, request, required=True)
        amount = None
        if request.HasField("amount"):
            try:
                amount = money.from_proto(request.amount, "amount")
            except InvalidArgument as error:
                problems.extend(error.violations)
        if problems:
            raise InvalidArgument(problems)
        return await self.handlers.create(
            identity.current(), payable, METHOD_NAME[request.method], request.card_number, key,
            amount, request.application)

    async def UpdatePaymentStatus(self, request, context):
        if request.status not in STATUS_NAME:
            raise InvalidArgument({"status": "must be a payment status"})
        return await self.handlers.update_status(
            identity.current(), resource_id(request.name, "payments"), STATUS_NAME[request.status],
            request.reason, request.bank_reference)
