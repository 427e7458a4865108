"""What insurance consumes: payment's successes, for the policies they buy."""
from autosalon.common.v1 import common_pb2
from autosalon.payment.v1 import payment_pb2
from services.kit.consumers import Route, Routes
from services.kit.db import UnitOfWork

from .handlers import PolicyHandlers


def payments(policies: PolicyHandlers) -> Routes:
    async def succeeded(uow: UnitOfWork, event: payment_pb2.PaymentEvent, envelope: common_pb2.EventEnvelope) -> None:
        if event.payment.policy:
            await policies.paid(uow, event.payment.policy, event.payment.name)

    return {"autosalon.payment.payment.succeeded": Route(payment_pb2.PaymentEvent, succeeded)}
