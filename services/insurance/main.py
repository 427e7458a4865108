"""insurance's composition root."""
from autosalon.insurance.v1 import insurance_pb2
from services.kit import runtime, server
from services.peers import auth

from . import SERVICE, events, store
from .api import ACCESS, InsuranceApi
from .handlers import InsuranceHandlers, PolicyHandlers
from .insurer import Insurer


async def main() -> None:
    service = await runtime.start(SERVICE, store.outbox, store.InsuranceRepository, auth.TRUST)
    own = service.settings
    handlers = InsuranceHandlers(service.database, own)
    insurer = Insurer(own.insurer_addr, own.insurer_breaker_failures, own.insurer_breaker_reset_seconds)
    policies = PolicyHandlers(service.database, insurer, own)
    service.serve(InsuranceApi(handlers, policies), insurance_pb2.DESCRIPTOR.services_by_name["InsuranceService"],
                  ACCESS)
    service.consume("payments", events.payments(policies))
    # Issuing by the insurer (while its breaker is open, a pass ends at its first refusal),
    # activation on the start date, the notice of the end, expiry after it. One instance at a
    # time: two passes would both have a policy issued, or its holders told, twice.
    service.every(own.schedule_seconds, policies.keep_in_step, "the policies' schedule", alone=True)
    service.on_stop(insurer.close)
    await service.run()


if __name__ == "__main__":
    server.run(main)
