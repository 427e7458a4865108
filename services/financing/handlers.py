"""financing's use cases: loan applications through their lifecycle, and the bank's credit
checks of the submitted ones.

A submitted application waits in the applications table itself (status submitted) until the
bank answers: the check runs every few tenths of a second, outside any transaction, and its
answer is recorded only if the application is still submitted (a manager may have decided it
meanwhile). The check's id is the application's, and the bank answers a repeated id with its
first report, so an answer lost in a crash is asked for again, never enquired twice.
"""
import dataclasses
import datetime
import logging
import uuid
from decimal import Decimal

from autosalon.financing.v1 import financing_pb2
from services.kit import paging
from services.kit.db import Database, now
from services.kit.errors import FailedPrecondition, NotFound, Unavailable
from services.kit.idempotency import IdempotencyKey, same_request
from services.kit.identity import Identity
from services.kit.protos import acting_for, check_etag

from . import domain, loans
from .bank import Bank
from .convert import (
    STATUS_NAME, application_to_proto, calculation_to_proto, loan_from, prepayment_from, prepayment_to_proto,
    schedule_to_proto, terms_columns, terms_of,
)
from .store import FinancingRepository

log = logging.getLogger(__name__)

# The input fields of an application a draft's update may change.
EDITABLE = {"order", "financing_type", "vehicle_price", "down_payment", "term_months", "schedule_type",
            "employment_status", "monthly_income", "existing_monthly_payments", "passport_number", "birth_date"}
EVENTS = {domain.SUBMITTED: "submitted", domain.APPROVED: "approved", domain.REJECTED: "rejected",
          domain.ACTIVE: "activated", domain.COMPLETED: "completed", domain.DEFAULTED: "defaulted"}


class FinancingHandlers:
    def __init__(self, database: Database, bank: Bank, policy: loans.CreditPolicy):
        self.database = database
        self.bank = bank
        self.policy = policy

    def _proto(self, row, changes) -> financing_pb2.Application:
        day = row.activation_date or datetime.date.today()
        return application_to_proto(row, changes, domain.quoted(terms_of(row), row.annual_rate, self.policy, day))

    async def _with_log(self, repository: FinancingRepository, row) -> financing_pb2.Application:
        return self._proto(row, (await repository.log_of([row.id]))[row.id])

    async def _own(self, repository: FinancingRepository, caller: Identity, application_id: uuid.UUID,
                   for_update: bool = False):
        """The application, if the caller may see it (a client only their own)."""
        row = await repository.by_id(application_id, for_update)
        if row is None or (not caller.is_staff and row.customer != caller.user_name):
            raise NotFound(f"applications/{application_id} does not exist")
        return row

    async def get(self, caller: Identity, application_id: uuid.UUID) -> financing_pb2.Application:
        async with self.database.reading() as uow:
            return await self._with_log(uow.repository, await self._own(uow.repository, caller, application_id))

    async def list_applications(self, caller: Identity, status: int, requested_size: int, page_token: str
                                ) -> tuple[list[financing_pb2.Application], str]:
        query = {"status": status}
        size = paging.page_size(requested_size)
        after = paging.time_position(paging.decode_token(page_token, query))
        async with self.database.reading() as uow:
            repository = uow.repository
            rows = await repository.page(STATUS_NAME.get(status), None if caller.is_staff else caller.user_name,
                                         size, after)
            rows, token = paging.newest_page(rows, size, query)
            logs = await repository.log_of([row.id for row in rows])
        return [self._proto(row, logs[row.id]) for row in rows], token

    async def create(self, caller: Identity, customer: str, terms: domain.Terms, key: IdempotencyKey
                     ) -> financing_pb2.Application:
        domain.check_terms(terms, self.policy, "application.")
        borrower = acting_for(caller, customer, "application.customer", staff_must_name=True)
        created = now()
        row = {
            "id": uuid.uuid4(), "customer": borrower, **terms_columns(terms), "annual_rate": self.policy.base_rate,
            "status": domain.DRAFT, "decision_reasons": [], "decided_by": "", "decision_note": "", "version": 1,
            "idempotency_key": key.text or None, "idempotency_request": key.request, "created_at": created,
            "updated_at": created, "created_by": caller.user_name, "updated_by": caller.user_name,
        }
        async with self.database.unit_of_work() as uow:
            repository = uow.repository
            stored = await repository.add(row)
            if stored is None:
                earlier = await repository.by_key(caller.user_name, key.text)
                same_request(earlier.idempotency_request, key)
                return await self._with_log(repository, earlier)
            application = await self._with_log(repository, stored)
            await _announce(uow, "created", application)
        return application

    async def update(self, caller: Identity, application_id: uuid.UUID, etag: str, changes: dict
                     ) -> financing_pb2.Application:
        """Changes a draft's terms: `changes` by field, the rest kept."""
        async with self.database.unit_of_work() as uow:
            repository = uow.repository
            current = await self._own(repository, caller, application_id, for_update=True)
            check_etag(etag, current.version, f"applications/{current.id}", "application.etag")
            if current.status != domain.DRAFT:
                raise FailedPrecondition(f"the application is {current.status}; only a draft may be changed",
                                         domain.APPLICATION_WRONG_STATE, {"status": current.status})
            terms = dataclasses.replace(terms_of(current), **changes)
            domain.check_terms(terms, self.policy, "application.")
            updated = await repository.update(current.id, terms_columns(terms), caller.user_name, now())
            return await self._with_log(repository, updated)

    async def submit(self, caller: Identity, application_id: uuid.UUID) -> financing_pb2.Application:
        async with self.database.unit_of_work() as uow:
            repository = uow.repository
            current = await self._own(repository, caller, application_id, for_update=True)
            if current.status != domain.SUBMITTED:
                domain.check_move(current.status, domain.SUBMITTED)
                domain.check_submittable(terms_of(current))
            return await self._move(uow, current, domain.SUBMITTED, caller.user_name, "sent to the bank", {})

    async def decide(self, caller: Identity, application_id: uuid.UUID, wanted: str, reason: str,
                     rate: Decimal | None) -> financing_pb2.Application:
        """A manager's approval or rejection."""
        reason = domain.check_reason(reason)
        async with self.database.unit_of_work() as uow:
            repository = uow.repository
            current = await self._own(repository, caller, application_id, for_update=True)
            values = {"decided_by": caller.user_name, "decided_at": now(), "decision_note": reason,
                      "decision_reasons": [*current.decision_reasons, domain.MANUAL]}
            if rate is not None:
                values["annual_rate"] = rate
            return await self._move(uow, current, wanted, caller.user_name, reason, values)

    async def staff_move(self, caller: Identity, application_id: uuid.UUID, wanted: str, reason: str
                         ) -> financing_pb2.Application:
        """Activation (the money disbursed), completion, default."""
        reason = domain.check_reason(reason, required=wanted == domain.DEFAULTED)
        async with self.database.unit_of_work() as uow:
            current = await self._own(uow.repository, caller, application_id, for_update=True)
            values = {"activation_date": datetime.date.today()} if wanted == domain.ACTIVE else {}
            return await self._move(uow, current, wanted, caller.user_name, reason or wanted, values)

    async def schedule(self, caller: Identity, application_id: uuid.UUID) -> financing_pb2.Schedule:
        async with self.database.reading() as uow:
            row = await self._own(uow.repository, caller, application_id)
        day = row.activation_date or datetime.date.today()
        return schedule_to_proto(f"applications/{row.id}/schedule",
                                 domain.quoted(terms_of(row), row.annual_rate, self.policy, day))

    def calculate(self, request: financing_pb2.CalculateLoanRequest) -> financing_pb2.LoanCalculation:
        loan = loan_from(request, self.policy)
        schedule = domain.quoted(loan, loan.annual_rate, self.policy, loan.disbursement_date)
        cost = loans.full_cost(schedule, loan.charges)
        return calculation_to_proto(schedule, loan.down_payment, cost, request.view)

    def prepayment(self, request: financing_pb2.CalculatePrepaymentRequest) -> financing_pb2.PrepaymentCalculation:
        loan = loan_from(request.loan, self.policy, "loan.")
        schedule = domain.quoted(loan, loan.annual_rate, self.policy, loan.disbursement_date)
        return prepayment_to_proto(schedule, request.after_payment, prepayment_from(request, schedule))

    async def _move(self, uow, current, wanted: str, actor: str, reason: str, values: dict
                    ) -> financing_pb2.Application:
        """Moves the locked application `current` to `wanted` and announces it; already there,
        it is returned unchanged (a retried call)."""
        repository = uow.repository
        if current.status == wanted:
            return await self._with_log(repository, current)
        domain.check_move(current.status, wanted)
        moved = await repository.move(current.id, current.status, wanted, actor, reason, values, now())
        application = await self._with_log(repository, moved)
        if wanted in EVENTS:
            await _announce(uow, EVENTS[wanted], application)
        return application

    async def check_waiting(self) -> int:
        """One pass over the submitted applications: each sent to the bank, its report recorded
        and the rules' decision taken. Returns how many were decided; stops at the first outage
        (the rest wait for the next pass)."""
        async with self.database.reading() as uow:
            waiting = await uow.repository.waiting_for_the_bank()
        checked = 0
        for row in waiting:
            try:
                report = await self.bank.check_credit(str(row.id), row.passport_number, row.birth_date.isoformat())
            except Unavailable as outage:
                log.warning("applications/%s waits for the bank: %s", row.id, outage.message)
                return checked
            await self._record(row.id, report)
            checked += 1
        return checked

    async def _record(self, application_id: uuid.UUID, report) -> None:
        today = datetime.date.today()
        async with self.database.unit_of_work() as uow:
            repository = uow.repository
            current = await repository.by_id(application_id, for_update=True)
            if current.status != domain.SUBMITTED:
                return  # decided by a manager while the bank answered
            decision = domain.decision(terms_of(current), report.score, report.has_overdue_debt, self.policy, today)
            values = {"credit_score": report.score, "decision_reasons": list(decision.reasons),
                      "debt_to_income": decision.pti, "passport_number": ""}
            # The rate the rules would grant, for a manager's approval to keep; none for a decline.
            if decision.outcome != loans.DECLINED and decision.annual_rate is not None:
                values["annual_rate"] = decision.annual_rate
            reviewed = await repository.move(current.id, domain.SUBMITTED, domain.UNDER_REVIEW, domain.RULES,
                                             f"credit score {report.score} (report {report.reference})", values,
                                             now())
            wanted = domain.status_after(decision.outcome)
            if wanted == domain.UNDER_REVIEW:
                return
            outcome = {"decided_by": domain.RULES, "decided_at": now(),
                       "decision_note": ", ".join(decision.reasons)}
            await self._move(uow, reviewed, wanted, domain.RULES, outcome["decision_note"], outcome)


async def _announce(uow, event: str, application: financing_pb2.Application) -> None:
    await uow.emit(f"application.{event}", application.name,
                   financing_pb2.ApplicationEvent(application=application))
