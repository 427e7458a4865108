"""financing's composition root."""
from autosalon.financing.v1 import financing_pb2
from services.kit import runtime, server
from services.peers import auth

from . import SERVICE, loans, store
from .api import ACCESS, FinancingApi
from .bank import Bank
from .handlers import FinancingHandlers


async def main() -> None:
    service = await runtime.start(SERVICE, store.outbox, store.FinancingRepository, auth.TRUST)
    own = service.settings
    bank = Bank(own.bank_addr, own.bank_breaker_failures, own.bank_breaker_reset_seconds)
    handlers = FinancingHandlers(service.database, bank, _policy(own))

    def rules_changed(now) -> None:
        handlers.policy = _policy(now)

    own.on_change(rules_changed)
    service.serve(FinancingApi(handlers), financing_pb2.DESCRIPTOR.services_by_name["FinancingService"], ACCESS)
    # While the bank's breaker is open, each pass ends at its first refusal, costing nothing.
    # One instance at a time: two passes would both ask the bank about one application.
    service.every(own.check_seconds, handlers.check_waiting, "the credit checks", alone=True)
    service.on_stop(bank.close)
    await service.run()


def _policy(own) -> loans.CreditPolicy:
    return loans.CreditPolicy(base_rate=own.base_rate, average_market_full_cost=own.average_market_full_cost,
                              interest_basis=own.interest_basis, payment_rounding=own.payment_rounding)


if __name__ == "__main__":
    server.run(main)
