"""customer's composition root."""
from autosalon.customer.v1 import customer_pb2
from services.kit import app, bus, server

from . import store
from .api import ACCESS, CustomerApi
from .events import on_order_completed, on_user_registered
from .handlers import CustomerHandlers


async def main() -> None:
    runtime = await app.start("customer", store.outbox)
    handlers = CustomerHandlers(runtime.database)
    runtime.service.add_service(
        CustomerApi(handlers),
        customer_pb2.DESCRIPTOR.services_by_name["CustomerService"],
        ACCESS,
    )
    runtime.service.add_background(lambda: bus.consume(
        runtime.database, runtime.bus, store.consumed_events, "auth",
        "autosalon.auth.user.registered", "registered-users", on_user_registered(handlers)))
    runtime.service.add_background(lambda: bus.consume(
        runtime.database, runtime.bus, store.consumed_events, "sales",
        "autosalon.sales.order.completed", "purchases", on_order_completed(handlers)))
    await runtime.service.run()


if __name__ == "__main__":
    server.run(main)
