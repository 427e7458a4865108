"""financing's credit checks against a real PostgreSQL and a real gRPC bank (the emulator,
started here on a port of its own so the test can take it away or slow it down)."""
import asyncio
import datetime
import uuid
from decimal import Decimal

import pytest

from autosalon.financing.v1 import financing_pb2
from bank.v1 import bank_pb2_grpc
from services.emulators.bank import Bank as BankEmulator
from services.financing import domain, loans, store
from services.financing.bank import Bank
from services.financing.convert import STATUS_NAME
from services.financing.handlers import FinancingHandlers
from services.kit.idempotency import NO_KEY
from services.kit.identity import Identity

from .conftest import migrated_database
from .outside import Outside

CLIENT = Identity(user_id=str(uuid.uuid4()), role="client", email="c@example.ru", token="")
MANAGER = Identity(user_id=str(uuid.uuid4()), role="manager", email="m@autosalon.local", token="")
TERMS = domain.Terms(
    financing_type=domain.CAR_LOAN, vehicle_price=Decimal("2000000.00"), down_payment=Decimal("400000.00"),
    term_months=36, schedule_type=loans.ANNUITY, employment_status=domain.EMPLOYED,
    monthly_income=Decimal("80000.00"), existing_monthly_payments=Decimal("0.00"),
    passport_number="4510000460", birth_date=datetime.date(1985, 3, 1))


def _bank(latency_seconds: float = 0.0) -> Outside:
    return Outside(BankEmulator(latency_seconds=latency_seconds, failure_rate=0),
                   bank_pb2_grpc.add_BankServiceServicer_to_server)


@pytest.fixture
async def financing(mesh):
    async def make(outside: Outside):
        bank = Bank(outside.address, fail_max=1, reset_timeout=0.2, timeout=2.0)
        handlers = FinancingHandlers(database, bank, loans.CreditPolicy())
        made.append((outside, bank))
        return handlers

    made = []
    async with migrated_database(mesh, "financing", store.outbox, store.FinancingRepository) as database:
        yield make
        for outside, bank in made:
            await bank.close()
            await outside.down()


async def _submitted(handlers: FinancingHandlers) -> uuid.UUID:
    created = await handlers.create(CLIENT, "", TERMS, NO_KEY)
    application_id = uuid.UUID(created.name.split("/")[1])
    await handlers.submit(CLIENT, application_id)
    return application_id


def _moves(application) -> list[tuple[str, str]]:
    return [(STATUS_NAME.get(change.from_status, ""), STATUS_NAME[change.to_status])
            for change in application.status_log]


async def test_while_the_bank_is_away_a_submission_waits_and_is_checked_once_it_is_back(financing):
    outside = _bank()
    handlers = await financing(outside)
    application_id = await _submitted(handlers)
    assert await handlers.check_waiting() == 0
    assert (await handlers.get(CLIENT, application_id)).status == financing_pb2.APPLICATION_STATUS_SUBMITTED
    await outside.up()
    await asyncio.sleep(0.3)  # the breaker's reset timeout: the next pass tries the bank again
    assert await handlers.check_waiting() == 1
    decided = await handlers.get(CLIENT, application_id)
    assert (decided.status, decided.credit_score) == (financing_pb2.APPLICATION_STATUS_APPROVED, 760)
    assert list(outside.emulator.reports) == [str(application_id)]
    assert await handlers.check_waiting() == 0


async def test_a_report_arriving_after_a_managers_decision_changes_nothing(financing):
    outside = _bank(latency_seconds=0.5)
    await outside.up()
    handlers = await financing(outside)
    application_id = await _submitted(handlers)
    checking = asyncio.create_task(handlers.check_waiting())
    await asyncio.sleep(0.1)
    await handlers.decide(MANAGER, application_id, domain.REJECTED, "the customer withdrew", None)
    await checking
    final = await handlers.get(CLIENT, application_id)
    assert final.status == financing_pb2.APPLICATION_STATUS_REJECTED and final.decided_by == MANAGER.user_name
    assert final.credit_score == 0 and final.decision_note == "the customer withdrew"
    assert _moves(final) == [("", "draft"), ("draft", "submitted"), ("submitted", "rejected")]


async def test_the_check_id_is_the_applications_so_a_lost_answer_is_asked_for_again_not_anew(financing):
    outside = _bank()
    await outside.up()
    handlers = await financing(outside)
    first = await handlers.bank.check_credit("applications-1", "4510000460", "1985-03-01")
    again = await handlers.bank.check_credit("applications-1", "4510000460", "1985-03-01")
    assert again == first and len(outside.emulator.reports) == 1
