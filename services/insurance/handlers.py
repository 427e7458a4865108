"""insurance's use cases: quotes, priced for anyone and saved for signed-in callers."""
import datetime
import logging
import uuid
from decimal import Decimal

from autosalon.insurance.v1 import insurance_pb2
from services.kit import money, paging
from services.kit.db import Database, now
from services.kit.errors import FailedPrecondition, InvalidArgument, NotFound, Unavailable
from services.kit.idempotency import IdempotencyKey, same_request
from services.kit.identity import Identity
from services.kit.protos import acting_for, resource_id
from services.kit.texts import check_text

from . import InsuranceSettings, domain, store, tariffs
from .convert import (
    POLICY_STATUS_NAME, PRODUCT_NAME, claim_to_proto, policy_to_proto, priced, quote_from_row, quote_json,
    quote_to_proto, tariff_versions_to_proto,
)
from .insurer import Insurer

log = logging.getLogger(__name__)


class InsuranceHandlers:
    def __init__(self, database: Database, settings: InsuranceSettings):
        self.database = database
        # Hot (the base rate, the loan covers' rates, a quote's validity): read at each quote.
        self.settings = settings

    async def create_quote(self, caller: Identity | None, request: insurance_pb2.Quote) -> insurance_pb2.Quote:
        """The price of the cover; saved (named) when the caller is signed in."""
        own = self.settings
        outcome = priced(request, own.osago_base_rate, tariffs.LoanCoverRates(life=own.life_rate, health=own.health_rate),
                         own.osago_latest_version)
        valid_until = datetime.date.today() + datetime.timedelta(days=own.quote_validity_days)
        if caller is None:
            if request.customer:
                raise InvalidArgument({"quote.customer": "only a signed-in caller's quote is saved for a customer"})
            return quote_to_proto(request, outcome, "", "", valid_until, None)
        customer = acting_for(caller, request.customer, "quote.customer", staff_must_name=False)
        quote_id, created = uuid.uuid4(), now()
        quote = quote_to_proto(request, outcome, f"quotes/{quote_id}", customer, valid_until, created)
        async with self.database.unit_of_work() as uow:
            await uow.repository.add_quote({
                "id": quote_id, "customer": customer, "product": outcome.product, "premium": outcome.premium,
                "tariff_version": outcome.tariff_version, "valid_until": valid_until, "quote": quote_json(quote),
                "created_at": created, "created_by": caller.user_name})
            await uow.emit("quote.created", quote.name, insurance_pb2.QuoteEvent(quote=quote))
        return quote

    async def get_quote(self, caller: Identity, quote_id: uuid.UUID) -> insurance_pb2.Quote:
        async with self.database.reading() as uow:
            row = await uow.repository.quote(quote_id)
        if row is None or (not caller.is_staff and row.customer != caller.user_name):
            raise NotFound(f"quotes/{quote_id} does not exist")
        return quote_from_row(row)

    async def list_quotes(self, caller: Identity, product: int, requested_size: int, page_token: str
                          ) -> tuple[list[insurance_pb2.Quote], str]:
        query = {"product": product}
        size = paging.page_size(requested_size)
        after = paging.time_position(paging.decode_token(page_token, query))
        async with self.database.reading() as uow:
            rows = await uow.repository.quote_page(PRODUCT_NAME.get(product), None if caller.is_staff else caller.user_name,
                                                   size, after)
        rows, token = paging.newest_page(rows, size, query)
        return [quote_from_row(row) for row in rows], token

    @staticmethod
    def tariff_versions() -> list[insurance_pb2.TariffVersion]:
        return tariff_versions_to_proto()


class PolicyHandlers:
    """Policies from quotes, bought through payment, issued by the insurer, kept in step with
    their dates; claims on them."""

    def __init__(self, database: Database, insurer: Insurer, settings=None):
        self.database = database
        self.insurer = insurer
        # Hot: how long before its end a policy's holder is told.
        self.settings = settings

    async def _proto(self, repository, row) -> insurance_pb2.Policy:
        name = f"policies/{row.id}"
        return policy_to_proto(row, (await repository.log_of([name]))[name])

    async def _claim_proto(self, repository, row) -> insurance_pb2.Claim:
        name = f"policies/{row.policy_id}/claims/{row.id}"
        return claim_to_proto(row, (await repository.log_of([name]))[name])

    async def _own(self, repository, caller: Identity, policy_id: uuid.UUID, for_update: bool = False):
        row = await repository.by_id(store.policies, policy_id, for_update)
        if row is None or (not caller.is_staff and row.customer != caller.user_name):
            raise NotFound(f"policies/{policy_id} does not exist")
        return row

    async def create(self, caller: Identity, quote_id: uuid.UUID, starts_on: datetime.date | None,
                     key: IdempotencyKey) -> insurance_pb2.Policy:
        today = datetime.date.today()
        async with self.database.reading() as uow:
            quote_row = await uow.repository.quote(quote_id)
        if quote_row is None or (not caller.is_staff and quote_row.customer != caller.user_name):
            raise NotFound(f"quotes/{quote_id} does not exist")
        if quote_row.valid_until < today:
            raise FailedPrecondition(f"quotes/{quote_id} was valid until {quote_row.valid_until.isoformat()}; "
                                     "ask for a new quote", domain.QUOTE_EXPIRED)
        quote = quote_from_row(quote_row)
        deductible = money.from_proto(quote.kasko.deductible, "") if quote.HasField("kasko") else Decimal(0)
        period = domain.period(quote_row.product, starts_on or today, today, quote.loan_cover.term_months)
        policy_id, created = uuid.uuid4(), now()
        row = {
            "id": policy_id, "quote_id": quote_id, "customer": quote_row.customer, "product": quote_row.product,
            "premium": quote_row.premium, "sum_insured": money.from_proto(quote.sum_insured, ""),
            "deductible": deductible, "starts_on": period.starts_on, "ends_on": period.ends_on,
            "status": domain.DRAFT, "policy_number": "", "payment": "", "cancel_reason": "",
            "approved_claims": Decimal(0), "idempotency_key": key.text or None, "idempotency_request": key.request,
            "created_at": created, "updated_at": created, "created_by": caller.user_name,
            "updated_by": caller.user_name,
        }
        name = f"policies/{policy_id}"
        async with self.database.unit_of_work() as uow:
            repository = uow.repository
            added = await repository.add(store.policies, row, name)
            if added is None:
                earlier = await repository.by_key(store.policies, caller.user_name, key.text)
                same_request(earlier.idempotency_request, key)
                return await self._proto(repository, earlier)
            quoted = await repository.move(store.policies, policy_id, name, domain.DRAFT, domain.QUOTED,
                                           caller.user_name, f"priced by quotes/{quote_id}: {quote_row.premium}", {},
                                           created)
            return await self._proto(repository, quoted)

    async def get(self, caller: Identity, policy_id: uuid.UUID) -> insurance_pb2.Policy:
        async with self.database.reading() as uow:
            return await self._proto(uow.repository, await self._own(uow.repository, caller, policy_id))

    async def list_policies(self, caller: Identity, status: int, requested_size: int, page_token: str
                            ) -> tuple[list[insurance_pb2.Policy], str]:
        query = {"status": status}
        size = paging.page_size(requested_size)
        after = paging.time_position(paging.decode_token(page_token, query))
        conditions = [column == value for column, value in (
            (store.policies.c.status, POLICY_STATUS_NAME.get(status)),
            (store.policies.c.customer, None if caller.is_staff else caller.user_name)) if value]
        async with self.database.reading() as uow:
            rows = await uow.repository.page(store.policies, conditions, size, after)
            rows, token = paging.newest_page(rows, size, query)
            logs = await uow.repository.log_of([f"policies/{row.id}" for row in rows])
        return [policy_to_proto(row, logs[f"policies/{row.id}"]) for row in rows], token

    async def cancel(self, caller: Identity, policy_id: uuid.UUID, reason: str) -> insurance_pb2.Policy:
        reason = check_text(reason, "reason", domain.REASON_MAX, required=True)
        today = datetime.date.today()
        async with self.database.unit_of_work() as uow:
            repository = uow.repository
            current = await self._own(repository, caller, policy_id, for_update=True)
            domain.check_policy_move(current.status, domain.CANCELLED)
            values = {"cancel_reason": reason}
            if current.status != domain.QUOTED:
                refund = tariffs.cancellation_refund(
                    current.premium, tariffs.PolicyPeriod(current.starts_on, current.ends_on),
                    current.purchased_on, today, domain.REFUND_RULES[current.product],
                    insured_event=current.approved_claims > 0)
                values["refund"] = refund.amount
            return await self._policy_move(uow, current, domain.CANCELLED, caller.user_name, reason, values)

    async def _policy_move(self, uow, current, wanted: str, actor: str, reason: str, values: dict
                           ) -> insurance_pb2.Policy | None:
        """Moves a policy and announces it; None when someone moved it first."""
        name = f"policies/{current.id}"
        moved = await uow.repository.move(store.policies, current.id, name, current.status, wanted, actor, reason,
                                          values, now())
        if moved is None:
            return None
        policy = await self._proto(uow.repository, moved)
        event = {domain.ACTIVE: "activated", domain.EXPIRED: "expired", domain.CANCELLED: "cancelled",
                 domain.CLAIMED: "claimed"}.get(wanted)
        if event:
            await uow.emit(f"policy.{event}", policy.name, insurance_pb2.PolicyEvent(policy=policy))
        return policy

    async def paid(self, uow, policy_name: str, payment: str) -> None:
        """payment says the policy's premium is paid: quoted → purchased (the insurer issues it next)."""
        try:
            policy_id = resource_id(policy_name, "policies")
        except InvalidArgument:
            return
        current = await uow.repository.by_id(store.policies, policy_id, for_update=True)
        if current is None or current.status != domain.QUOTED:
            if current is not None and current.payment != payment:
                log.error("%s was paid by %s while %s; staff must give the money back", policy_name, payment,
                          current.status)
            return
        await self._policy_move(uow, current, domain.PURCHASED, domain.PAYMENT, f"paid by {payment}",
                                {"payment": payment, "purchased_on": datetime.date.today()})

    async def keep_in_step(self) -> int:
        """One pass of the scheduled jobs: the insurer issues purchased policies; issued ones
        become active on their start date, and active ones expire after their end; the holders
        of those ending soon are told, once. Returns how many moved; stops issuing at the
        insurer's first outage."""
        today, moved = datetime.date.today(), 0
        policies = store.policies.c
        async with self.database.reading() as uow:
            unissued = await uow.repository.due((policies.status == domain.PURCHASED) & (policies.policy_number == ""))
        for row in unissued:
            try:
                number = await self.insurer.issue(str(row.id), row.product, row.premium, row.starts_on, row.ends_on)
            except Unavailable as outage:
                log.warning("policies/%s waits for the insurer: %s", row.id, outage.message)
                break
            try:
                async with self.database.unit_of_work() as uow:
                    issued = await uow.repository.change(store.policies, row.id, {"policy_number": number})
                    policy = await self._proto(uow.repository, issued)
                    await uow.emit("policy.issued", policy.name, insurance_pb2.PolicyEvent(policy=policy))
            except Exception:
                # One policy the insurer answered wrongly (a number given twice) must not stop the rest.
                log.exception("policies/%s: the insurer's number %s cannot be kept; staff must look", row.id, number)
                continue
            moved += 1
        async with self.database.reading() as uow:
            starting = await uow.repository.due((policies.status == domain.PURCHASED) & (policies.policy_number != "")
                                                & (policies.starts_on <= today))
            ending = await uow.repository.due((policies.status == domain.ACTIVE) & (policies.ends_on < today))
        for rows, wanted, reason in ((starting, domain.ACTIVE, "its start date"), (ending, domain.EXPIRED, "its end")):
            for row in rows:
                async with self.database.unit_of_work() as uow:
                    moved += await self._policy_move(uow, row, wanted, domain.SCHEDULE, reason, {}) is not None
        await self._tell_of_endings(today)
        return moved

    async def _tell_of_endings(self, today: datetime.date) -> None:
        """policy.expiring, once, for each active policy within the notice period of its end."""
        policies = store.policies.c
        notice = today + datetime.timedelta(days=self.settings.expiry_notice_days)
        async with self.database.unit_of_work() as uow:
            for row in await uow.repository.due((policies.status == domain.ACTIVE) & (policies.ends_on <= notice)
                                                & policies.expiry_notice_on.is_(None)):
                told = await uow.repository.change(store.policies, row.id, {"expiry_notice_on": today})
                policy = await self._proto(uow.repository, told)
                await uow.emit("policy.expiring", policy.name, insurance_pb2.PolicyEvent(policy=policy))

    # Claims

    async def create_claim(self, caller: Identity, policy_id: uuid.UUID, incident: datetime.date, description: str,
                           claimed: Decimal, key: IdempotencyKey) -> insurance_pb2.Claim:
        description = check_text(description, "claim.description", domain.DESCRIPTION_MAX, required=True)
        if claimed <= 0:
            raise InvalidArgument({"claim.claimed_amount.amount": "must be more than 0"})
        async with self.database.reading() as uow:
            repository = uow.repository
            policy = await self._own(repository, caller, policy_id)
            earlier = await repository.by_key(store.claims, caller.user_name, key.text) if key else None
            if earlier is not None:
                same_request(earlier.idempotency_request, key)
                return await self._claim_proto(repository, earlier)
        if policy.status != domain.ACTIVE:
            raise FailedPrecondition(f"policies/{policy_id} is {policy.status}; claims are made on an active policy",
                                     domain.POLICY_NOT_ACTIVE, {"status": policy.status})
        domain.check_incident(tariffs.PolicyPeriod(policy.starts_on, policy.ends_on), incident, datetime.date.today())
        claim_id = uuid.uuid4()
        number = await self.insurer.register_claim(str(claim_id), policy.policy_number, incident, claimed)
        created, name = now(), f"policies/{policy_id}/claims/{claim_id}"
        row = {"id": claim_id, "policy_id": policy_id, "claim_number": number, "incident_date": incident,
               "description": description, "claimed_amount": claimed, "status": domain.SUBMITTED,
               "decision_note": "", "idempotency_key": key.text or None, "idempotency_request": key.request,
               "created_at": created, "updated_at": created, "created_by": caller.user_name,
               "updated_by": caller.user_name}
        async with self.database.unit_of_work() as uow:
            added = await uow.repository.add(store.claims, row, name)
            if added is None:
                earlier = await uow.repository.by_key(store.claims, caller.user_name, key.text)
                same_request(earlier.idempotency_request, key)
                return await self._claim_proto(uow.repository, earlier)
            claim = await self._claim_proto(uow.repository, added)
            await uow.emit("claim.submitted", claim.name,
                           insurance_pb2.ClaimEvent(claim=claim, policy=f"policies/{policy_id}"))
        return claim

    async def _claim_of(self, repository, caller: Identity, policy_id: uuid.UUID, claim_id: uuid.UUID,
                        for_update: bool = False):
        await self._own(repository, caller, policy_id, for_update)
        row = await repository.by_id(store.claims, claim_id, for_update)
        if row is None or row.policy_id != policy_id:
            raise NotFound(f"policies/{policy_id}/claims/{claim_id} does not exist")
        return row

    async def get_claim(self, caller: Identity, policy_id: uuid.UUID, claim_id: uuid.UUID) -> insurance_pb2.Claim:
        async with self.database.reading() as uow:
            return await self._claim_proto(uow.repository, await self._claim_of(uow.repository, caller, policy_id,
                                                                                claim_id))

    async def list_claims(self, caller: Identity, policy_id: uuid.UUID, requested_size: int, page_token: str
                          ) -> tuple[list[insurance_pb2.Claim], str]:
        query = {"policy": str(policy_id)}
        size = paging.page_size(requested_size)
        after = paging.time_position(paging.decode_token(page_token, query))
        async with self.database.reading() as uow:
            await self._own(uow.repository, caller, policy_id)
            rows = await uow.repository.page(store.claims, [store.claims.c.policy_id == policy_id], size, after)
            rows, token = paging.newest_page(rows, size, query)
            names = [f"policies/{policy_id}/claims/{row.id}" for row in rows]
            logs = await uow.repository.log_of(names)
        return [claim_to_proto(row, logs[name]) for row, name in zip(rows, names)], token

    async def move_claim(self, caller: Identity, policy_id: uuid.UUID, claim_id: uuid.UUID, wanted: str,
                         note: str = "", approved: Decimal | None = None) -> insurance_pb2.Claim:
        """A manager's step on a claim: review, approve (within the cover), reject, pay."""
        note = check_text(note, "reason" if wanted == domain.REJECTED else "note", domain.REASON_MAX,
                                 required=wanted == domain.REJECTED)
        async with self.database.unit_of_work() as uow:
            repository = uow.repository
            policy = await self._own(repository, caller, policy_id, for_update=True)
            current = await self._claim_of(repository, caller, policy_id, claim_id, for_update=True)
            domain.check_claim_move(current.status, wanted)
            values = {"decision_note": note} if note else {}
            if wanted == domain.APPROVED:
                cover = domain.cover(policy.product, policy.sum_insured, policy.deductible)
                values["approved_amount"] = domain.approval(cover, current.claimed_amount, policy.approved_claims,
                                                            approved)
                total = policy.approved_claims + values["approved_amount"]
                policy = await repository.change(store.policies, policy_id, {"approved_claims": total})
                if domain.used_up(cover, total) and policy.status == domain.ACTIVE:
                    await self._policy_move(uow, policy, domain.CLAIMED, caller.user_name, "its cover is used up", {})
            name = f"policies/{policy_id}/claims/{claim_id}"
            moved = await repository.move(store.claims, claim_id, name, current.status, wanted, caller.user_name,
                                          note or wanted, values, now())
            claim = await self._claim_proto(repository, moved)
            if wanted != domain.UNDER_REVIEW:
                await uow.emit(f"claim.{wanted}", claim.name,
                               insurance_pb2.ClaimEvent(claim=claim, policy=f"policies/{policy_id}"))
            return claim
