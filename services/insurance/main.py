"""insurance's composition root."""
from datetime import timedelta

from autosalon.insurance.v1 import insurance_pb2
from services.kit import runtime, server
from services.peers import auth

from . import SERVICE, store, tariffs
from .api import ACCESS, InsuranceApi
from .handlers import InsuranceHandlers


async def main() -> None:
    service = await runtime.start(SERVICE, store.outbox, store.InsuranceRepository, auth.TRUST)
    own = service.settings
    handlers = InsuranceHandlers(service.database, own.osago_base_rate,
                                 tariffs.LoanCoverRates(life=own.life_rate, health=own.health_rate),
                                 timedelta(days=own.quote_validity_days))
    service.serve(InsuranceApi(handlers), insurance_pb2.DESCRIPTOR.services_by_name["InsuranceService"], ACCESS)
    await service.run()


if __name__ == "__main__":
    server.run(main)
