"""payment's composition root."""
from datetime import timedelta

from autosalon.payment.v1 import payment_pb2
from services.kit import runtime, server, watches
from services.peers import auth

from . import SERVICE, events, store
from .api import ACCESS, PaymentApi
from .gateway import Gateway
from .handlers import PaymentHandlers


async def main() -> None:
    service = await runtime.start(SERVICE, store.outbox, store.PaymentRepository, auth.TRUST)
    own = service.settings
    gateway = Gateway(own.gateway_addr, own.gateway_breaker_failures, own.gateway_breaker_reset_seconds)
    # Each watch of a payment wakes at its events, from either instance.
    payment_watches = watches.served(service.service, service.bus, "autosalon.payment.payment.>",
                                     lambda: own.watch_seconds, lambda: own.most_watches)
    handlers = PaymentHandlers(service.database, service.peers, gateway, timedelta(seconds=own.orphan_seconds),
                               payment_watches)
    service.serve(PaymentApi(handlers), payment_pb2.DESCRIPTOR.services_by_name["PaymentService"], ACCESS)
    service.consume("cancelled-orders", events.cancelled_orders(handlers))
    own.on_change(lambda now: gateway.limit(now.gateway_breaker_failures, now.gateway_breaker_reset_seconds))
    # While the gateway's breaker is open, each pass ends at its first refusal, costing nothing.
    service.every(lambda: own.queue_seconds, handlers.drain_queue, "the payment queue")
    service.on_stop(gateway.close)
    await service.run()


if __name__ == "__main__":
    server.run(main)
