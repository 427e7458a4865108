"""customer's composition root."""
from autosalon.customer.v1 import customer_pb2
from services.kit import runtime, server
from services.peers import auth

from . import SERVICE, events, store
from .api import ACCESS, CustomerApi
from .handlers import CustomerHandlers


async def main() -> None:
    service = await runtime.start(SERVICE, store.outbox, store.CustomerRepository, auth.TRUST)
    handlers = CustomerHandlers(service.database)
    service.serve(CustomerApi(handlers), customer_pb2.DESCRIPTOR.services_by_name["CustomerService"], ACCESS)
    # Named when it heard registrations only: a new name would leave the old durable behind, unread.
    service.consume("registered-users", events.accounts(handlers))
    service.consume("purchases", events.purchases(handlers))
    await service.run()


if __name__ == "__main__":
    server.run(main)
