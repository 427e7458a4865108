"""insurance's scheduled jobs against a real PostgreSQL and a real gRPC insurer (the emulator, on
a port of its own): purchased policies are issued, issued ones become active on their start date,
active ones expire after their end, and their holders are told once when the end is near; an
insurer away holds back only the issuing."""
import asyncio
import datetime
import uuid
from decimal import Decimal

import pytest

from insurer.v1 import insurer_pb2_grpc
from services.emulators.insurer import Insurer as InsurerEmulator
from services.insurance import InsuranceSettings, domain, store
from services.insurance.handlers import PolicyHandlers
from services.insurance.insurer import Insurer
from services.kit import exclusive
from services.kit.db import now

from .conftest import migrated_database
from .outside import Outside

TODAY = datetime.date.today()


@pytest.fixture
async def schedule(mesh, tmp_path):
    outside = Outside(InsurerEmulator(latency_seconds=0, failure_rate=0, records=tmp_path / "insurer.json"),
                      insurer_pb2_grpc.add_InsurerServiceServicer_to_server)
    async with migrated_database(mesh, "insurance", store.outbox, store.InsuranceRepository) as database:
        insurer = Insurer(outside.address, fail_max=1, reset_timeout=0.2, timeout=2.0)
        yield PolicyHandlers(database, insurer, InsuranceSettings()), database, outside
        await insurer.close()
    await outside.down()


async def _policy(database, status: str, starts_on: datetime.date, ends_on: datetime.date, number: str = ""
                  ) -> uuid.UUID:
    policy_id, moment = uuid.uuid4(), now()
    async with database.unit_of_work() as uow:
        await uow.repository.add(store.policies, {
            "id": policy_id, "quote_id": uuid.uuid4(), "customer": "users/u", "product": "kasko",
            "premium": Decimal("113578.20"), "sum_insured": Decimal("3000000.00"), "deductible": Decimal("30000.00"),
            "starts_on": starts_on, "ends_on": ends_on, "status": status, "policy_number": number,
            "payment": "payments/p", "purchased_on": TODAY, "cancel_reason": "", "approved_claims": Decimal(0),
            "created_at": moment, "updated_at": moment, "created_by": "users/u", "updated_by": "users/u",
        }, f"policies/{policy_id}")
    return policy_id


async def _row(database, policy_id: uuid.UUID):
    async with database.reading() as uow:
        return await uow.repository.by_id(store.policies, policy_id)


async def _events(database) -> list[str]:
    async with database.reading() as uow:
        rows = await uow.connection.execute(store.outbox.select().order_by(store.outbox.c.seq))
        return [row.subject.rpartition(".policy.")[2] for row in rows]


async def test_a_paid_policy_is_issued_then_active_from_its_start_date(schedule):
    policies, database, outside = schedule
    await outside.up()
    today = await _policy(database, domain.PURCHASED, TODAY, TODAY + datetime.timedelta(days=364))
    later = await _policy(database, domain.PURCHASED, TODAY + datetime.timedelta(days=10),
                          TODAY + datetime.timedelta(days=374))
    assert await policies.keep_in_step() == 3  # two issued, one activated
    started, waiting = await _row(database, today), await _row(database, later)
    assert started.status == domain.ACTIVE and started.policy_number.startswith("KASKO-")
    assert waiting.status == domain.PURCHASED and waiting.policy_number != started.policy_number
    assert sorted(await _events(database)) == ["activated", "issued", "issued"]
    assert await policies.keep_in_step() == 0


async def test_an_active_policy_expires_after_its_last_day(schedule):
    policies, database, outside = schedule
    ended = await _policy(database, domain.ACTIVE, TODAY - datetime.timedelta(days=365),
                          TODAY - datetime.timedelta(days=1), "KASKO-2025-00000001")
    running = await _policy(database, domain.ACTIVE, TODAY - datetime.timedelta(days=364), TODAY,
                            "KASKO-2025-00000002")
    assert await policies.keep_in_step() == 1
    assert (await _row(database, ended)).status == domain.EXPIRED
    assert (await _row(database, running)).status == domain.ACTIVE, "its last day is today: still covered"
    assert await _events(database) == ["expired", "expiring"], "the one still running ends soon"


async def test_the_holder_of_an_active_policy_is_told_once_within_the_notice_of_its_end(schedule):
    policies, database, outside = schedule
    soon = await _policy(database, domain.ACTIVE, TODAY - datetime.timedelta(days=335),
                         TODAY + datetime.timedelta(days=30), "KASKO-2025-00000004")
    later = await _policy(database, domain.ACTIVE, TODAY - datetime.timedelta(days=334),
                          TODAY + datetime.timedelta(days=31), "KASKO-2025-00000005")
    assert await policies.keep_in_step() == 0, "a notice moves no policy"
    assert await _events(database) == ["expiring"]
    assert (await _row(database, soon)).expiry_notice_on == TODAY
    assert (await _row(database, later)).expiry_notice_on is None, "31 days before its end: not yet"
    await policies.keep_in_step()
    assert await _events(database) == ["expiring"], "told once"


class HeldInsurer:
    """An insurer whose first answer waits for `let_go`: a pass of the schedule held mid-way,
    its policy asked for but not yet recorded as issued."""

    def __init__(self):
        self.asked, self.let_go, self.numbers = asyncio.Event(), asyncio.Event(), 0

    async def issue(self, policy_id: str, product: str, premium, starts_on, ends_on) -> str:
        self.numbers += 1
        number = f"KASKO-2025-{self.numbers:08d}"
        if self.numbers == 1:
            self.asked.set()
            await self.let_go.wait()
        return number


async def test_of_two_instances_running_the_schedule_one_issues_and_announces_a_policy_once(schedule):
    """As main.py runs it (alone): the second instance's pass, due while the first waits for
    the insurer, is skipped rather than asking for the same policy again."""
    _, database, _ = schedule
    insurer = HeldInsurer()
    first, second = (PolicyHandlers(database, insurer, InsuranceSettings()) for _ in range(2))
    paid = await _policy(database, domain.PURCHASED, TODAY + datetime.timedelta(days=10),
                         TODAY + datetime.timedelta(days=374))
    job = "the policies' schedule"
    held = asyncio.create_task(exclusive.alone(database, job, first.keep_in_step))
    await asyncio.wait_for(insurer.asked.wait(), 10)
    assert await exclusive.alone(database, job, second.keep_in_step) is None
    insurer.let_go.set()
    assert await held == 1
    assert insurer.numbers == 1 and (await _row(database, paid)).policy_number == "KASKO-2025-00000001"
    assert await _events(database) == ["issued"]


async def test_while_the_insurer_is_away_issuing_waits_and_nothing_else_does(schedule):
    policies, database, outside = schedule
    paid = await _policy(database, domain.PURCHASED, TODAY, TODAY + datetime.timedelta(days=364))
    ended = await _policy(database, domain.ACTIVE, TODAY - datetime.timedelta(days=365),
                          TODAY - datetime.timedelta(days=1), "KASKO-2025-00000003")
    assert await policies.keep_in_step() == 1
    assert (await _row(database, paid)).policy_number == "" and (await _row(database, ended)).status == domain.EXPIRED
    await outside.up()
    await asyncio.sleep(0.3)  # the breaker's reset timeout: the next pass asks the insurer again
    assert await policies.keep_in_step() == 2
    assert (await _row(database, paid)).status == domain.ACTIVE


async def test_the_insurer_never_gives_a_number_twice_even_after_a_restart(tmp_path):
    records = tmp_path / "insurer.json"
    numbers = []
    for request_id in ("first", "second", "first"):
        # A new emulator each time, as after a restart, on the same records.
        outside = Outside(InsurerEmulator(latency_seconds=0, failure_rate=0, records=records),
                          insurer_pb2_grpc.add_InsurerServiceServicer_to_server)
        await outside.up()
        client = Insurer(outside.address, fail_max=1, reset_timeout=0.2, timeout=2.0)
        try:
            numbers.append(await client.issue(request_id, "kasko", Decimal("1.00"), TODAY, TODAY))
        finally:
            await client.close()
            await outside.down()
    assert numbers[0] != numbers[1] and numbers[2] == numbers[0]
