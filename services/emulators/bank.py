"""The emulated bank's credit reports (bank.v1.BankService).

Settings: EmulatorSettings below. Reports are deterministic, so a test picks its outcome by the
passport: the score is 300 + (its last six digits mod 551), and a series (first four digits)
ending in 99 has overdue debt. A report is kept by its check id, in memory: the same id gets the
same report, as a bank's enquiry log would give.
"""
import datetime
import logging
import re
import secrets
from dataclasses import dataclass

import grpc

from bank.v1 import bank_pb2, bank_pb2_grpc
from services.kit import server, settings

from .serving import behave_like_a_network, serve

log = logging.getLogger(__name__)
PASSPORT = re.compile(r"[0-9]{10}", re.ASCII)
LOWEST_SCORE, SCORES = 300, 551


@dataclass(frozen=True)
class EmulatorSettings:
    address: str = settings.setting("127.0.0.1:7102", "AUTOSALON_BANK_ADDR", "where the bank emulator listens")
    latency_ms: float = settings.setting(30.0, "AUTOSALON_BANK_LATENCY_MS", "how long each credit report takes",
                                         minimum=0)
    failure_rate: float = settings.setting(0.0, "AUTOSALON_BANK_FAILURE_RATE",
                                           "the share of calls answered UNAVAILABLE, as a bank outage",
                                           minimum=0, maximum=1)


def report(passport_number: str) -> tuple[int, bool, int]:
    """(score, overdue debt, open loans) the bank knows of the passport's holder."""
    number = int(passport_number[4:])
    return LOWEST_SCORE + number % SCORES, passport_number[2:4] == "99", number % 3


class Bank(bank_pb2_grpc.BankServiceServicer):
    def __init__(self, latency_seconds: float, failure_rate: float):
        self.latency = latency_seconds
        self.failure_rate = failure_rate
        self.reports: dict[str, bank_pb2.CheckCreditResponse] = {}

    async def CheckCredit(self, request, context):
        await behave_like_a_network(context, self.latency, self.failure_rate, "bank temporarily unavailable")
        if not 1 <= len(request.check_id) <= 100:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "check_id: 1 to 100 characters")
        done = self.reports.get(request.check_id)
        if done is not None:
            return done
        passport = "".join(request.passport_number.split())
        if not PASSPORT.fullmatch(passport):
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "passport_number: 10 digits")
        try:
            datetime.date.fromisoformat(request.birth_date)
        except ValueError:
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "birth_date: YYYY-MM-DD")
        score, overdue, open_loans = report(passport)
        answer = bank_pb2.CheckCreditResponse(
            check_id=request.check_id, score=score, has_overdue_debt=overdue, open_loans=open_loans,
            report_reference=f"CR-{secrets.token_hex(6).upper()}")
        self.reports[request.check_id] = answer
        log.info("credit check %s: score %d%s", request.check_id, score, ", overdue debt" if overdue else "")
        return answer


async def main() -> None:
    own = settings.load(EmulatorSettings)
    await serve("bank", own.address, Bank(own.latency_ms / 1000, own.failure_rate),
                bank_pb2_grpc.add_BankServiceServicer_to_server, bank_pb2.DESCRIPTOR.services_by_name["BankService"])


if __name__ == "__main__":
    server.run(main)
