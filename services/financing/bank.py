"""The bank's credit reports, called over gRPC through a circuit breaker (kit.calls.Outside).

The bank is an outside system, not in Consul: its address comes from the settings. A check is
idempotent by its id (the application's), so asking again after a lost answer never makes a
second enquiry.
"""
from dataclasses import dataclass

from bank.v1 import bank_pb2, bank_pb2_grpc
from services.kit import calls


@dataclass(frozen=True)
class Report:
    score: int
    has_overdue_debt: bool
    reference: str


class Bank:
    def __init__(self, address: str, fail_max: int, reset_timeout: float, timeout: float = 5.0):
        self._outside = calls.Outside("the bank", address, bank_pb2_grpc.BankServiceStub, fail_max, reset_timeout,
                                      timeout)

    async def check_credit(self, check_id: str, passport_number: str, birth_date: str) -> Report:
        """The applicant's report; Unavailable while the bank is away."""
        answer = await self._outside.call("CheckCredit", bank_pb2.CheckCreditRequest(
            check_id=check_id, passport_number=passport_number, birth_date=birth_date))
        return Report(answer.score, answer.has_overdue_debt, answer.report_reference)

    async def close(self) -> None:
        await self._outside.close()
