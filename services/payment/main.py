"""payment's composition root."""
import os
from datetime import timedelta

from autosalon.payment.v1 import payment_pb2
from services.kit import app, bus, server

from . import store
from .api import ACCESS, PaymentApi
from .events import on_order_cancelled, work_the_queue
from .gateway import Gateway
from .handlers import PaymentHandlers


async def main() -> None:
    runtime = await app.start("payment", store.outbox)
    gateway = Gateway.from_environment()
    orphan_after = timedelta(seconds=float(os.environ.get("AUTOSALON_PAYMENT_ORPHAN_SECONDS", "900")))
    handlers = PaymentHandlers(runtime.database, runtime.peers, gateway, orphan_after)
    service = runtime.service
    service.add_service(
        PaymentApi(handlers),
        payment_pb2.DESCRIPTOR.services_by_name["PaymentService"],
        ACCESS,
    )
    service.add_background(lambda: bus.consume(
        runtime.database, runtime.bus, store.consumed_events, "sales",
        "autosalon.sales.order.cancelled", "cancelled-orders", on_order_cancelled(handlers)))
    queue_seconds = float(os.environ.get("AUTOSALON_PAYMENT_QUEUE_SECONDS", "1"))
    service.add_background(lambda: work_the_queue(handlers, queue_seconds))
    service.on_stop(gateway.close)
    await service.run()


if __name__ == "__main__":
    server.run(main)
