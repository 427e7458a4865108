"""The bank's credit reports, called over gRPC through a circuit breaker.

The bank is an outside system, not in Consul: its address comes from the settings. Only
outages (UNAVAILABLE, deadlines) count against the breaker. A check is idempotent by its id
(the application's), so asking again after a lost answer never makes a second enquiry.
"""
from dataclasses import dataclass

import grpc

from bank.v1 import bank_pb2, bank_pb2_grpc
from services.kit import calls, logs


@dataclass(frozen=True)
class Report:
    score: int
    has_overdue_debt: bool
    reference: str


class Bank:
    def __init__(self, address: str, fail_max: int, reset_timeout: float, timeout: float = 5.0):
        self.timeout = timeout
        self.breaker = calls.new_breaker("bank", fail_max, reset_timeout)
        self._channel = grpc.aio.insecure_channel(address, options=calls.CHANNEL_OPTIONS)
        self._stub = bank_pb2_grpc.BankServiceStub(self._channel)

    async def check_credit(self, check_id: str, passport_number: str, birth_date: str) -> Report:
        """The applicant's report; Unavailable while the bank is away."""
        metadata = [("x-request-id", logs.trace_id_var.get())]
        answer = await calls.guarded(self.breaker, "the bank", lambda: self._stub.CheckCredit(
            bank_pb2.CheckCreditRequest(check_id=check_id, passport_number=passport_number, birth_date=birth_date),
            timeout=self.timeout, metadata=metadata))
        return Report(answer.score, answer.has_overdue_debt, answer.report_reference)

    async def close(self) -> None:
        await self._channel.close()
