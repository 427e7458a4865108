"""payment's use cases, and the queue of card payments waiting for the gateway.

A card number lives only in this process's memory (`self.cards`) from the request until the
gateway has answered; it is never written to the database, a log or a reply. The queue is the
payments table itself: every PENDING card payment. Before charging one again, the gateway is
asked whether it already knows the transaction, so a crash between charge and record never
charges twice.
"""
import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import AsyncIterator

from autosalon.financing.v1 import financing_pb2
from autosalon.insurance.v1 import insurance_pb2
from autosalon.payment.v1 import payment_pb2
from autosalon.sales.v1 import sales_pb2
from services.kit import money, paging
from services.kit.calls import Peers
from services.kit.db import Database, UnitOfWork, now
from services.kit.errors import AlreadyExists, FailedPrecondition, NotFound, Unavailable
from services.kit.idempotency import IdempotencyKey, same_request
from services.kit.identity import Identity
from services.kit.watches import Watches
from services.peers import financing, insurance, sales

from . import domain
from .convert import STATUS_NAME, payment_to_proto, stats_to_proto
from .gateway import Gateway, Outcome
from .store import PaymentRepository

log = logging.getLogger(__name__)
GATEWAY = "gateway"
# How long an instance's word that it holds a queued payment's card lasts: renewed on every pass
# of its queue (a second apart by default), so it lapses only once the instance is gone.
CARD_LEASE = timedelta(minutes=5)
# A payment in these states is settled: its watch ends (a later refund is a new watch's news).
SETTLED = {payment_pb2.PAYMENT_STATUS_COMPLETED, payment_pb2.PAYMENT_STATUS_FAILED,
           payment_pb2.PAYMENT_STATUS_CANCELLED, payment_pb2.PAYMENT_STATUS_REFUNDED}
# The event announcing a payment's new status, as autosalon.payment.payment.<event>: every
# change is announced, so that a watch of the payment (in any instance) hears of it.
STATUS_EVENT = {domain.PROCESSING: "processing", domain.COMPLETED: "succeeded", domain.FAILED: "failed",
                domain.CANCELLED: "cancelled", domain.REFUNDING: "refunding", domain.REFUNDED: "refunded"}


class PaymentHandlers:
    def __init__(self, database: Database, peers: Peers, gateway: Gateway, orphan_after: timedelta,
                 watches: Watches | None = None):
        self.database = database
        self.peers = peers
        self.gateway = gateway
        self.watches = watches
        # A pending card payment whose number no live process holds (it restarted) is cancelled
        # after this long: the customer pays again; nothing was charged.
        self.orphan_after = orphan_after
        self.cards: dict[uuid.UUID, str] = {}

    async def get(self, caller: Identity, payment_id: uuid.UUID) -> payment_pb2.Payment:
        async with self.database.reading() as uow:
            repository = uow.repository
            row = await repository.by_id(payment_id)
            if row is None or (not caller.is_staff and row.customer != caller.user_name):
                raise NotFound(f"payments/{payment_id} does not exist")
            return await _with_log(repository, row)

    def watch(self, caller: Identity, payment_id: uuid.UUID) -> AsyncIterator[payment_pb2.Payment]:
        """The payment as `get` gives it to `caller`, then again after each change, until it is settled."""
        return self.watches.watch(f"payments/{payment_id}", lambda: self.get(caller, payment_id),
                                  lambda payment: payment.status in SETTLED)

    async def list_payments(self, caller: Identity, status: int, order: str, requested_size: int,
                   page_token: str) -> tuple[list[payment_pb2.Payment], str]:
        query = {"status": status, "order": order}
        size = paging.page_size(requested_size)
        after = paging.time_position(paging.decode_token(page_token, query))
        async with self.database.reading() as uow:
            repository = uow.repository
            rows = await repository.page(STATUS_NAME.get(status), order, None if caller.is_staff else caller.user_name,
                                        size, after)
            rows, token = paging.newest_page(rows, size, query)
            logs = await repository.log_of([row.id for row in rows])
        return [payment_to_proto(row, logs[row.id]) for row in rows], token

    async def stats(self, start: datetime | None, end: datetime | None) -> payment_pb2.PaymentStats:
        async with self.database.reading() as uow:
            rows = await uow.repository.stats(start, end)
        return stats_to_proto(rows)

    async def create(
        self, caller: Identity, order_name: str, method: str, raw_card: str, key: IdempotencyKey,
        amount: Decimal | None = None, application: str = "",
    ) -> payment_pb2.Payment:
        """A payment of `amount` (what is left of the order when None) by `method`; a credit one
        is made by the active loan `application` and completes at once."""
        card = domain.card_number(method, raw_card)
        application = domain.loan_reference(method, application)
        async with self.database.reading() as uow:
            repository = uow.repository
            earlier = await repository.by_key(caller.user_name, key.text)
            if earlier is not None:
                same_request(earlier.idempotency_request, key)
                return await _with_log(repository, earlier)
        order = await self._payable(order_name)
        if application:
            loan = await financing.get_application(self.peers, application)
            domain.check_loan(application, _loan_status(loan), loan.order, loan.customer, order.name, order.customer)
            if amount is None:
                amount = money.from_proto(loan.loan_amount, "loan_amount")
        total, created = order.total, now()
        row = {
            "id": uuid.uuid4(), "order_id": order.name, "customer": order.customer, "order_total": total,
            "currency": order.currency, "method": method, "status": domain.PENDING,
            "transaction_id": f"AS-{uuid.uuid4().hex}", "card_last_four": card[-4:], "application": application,
            "bank_reference": "", "failure_reason": "", "idempotency_key": key.text, "idempotency_request": key.request,
            "created_at": created, "updated_at": created, "created_by": caller.user_name, "updated_by": caller.user_name,
        }
        async with self.database.unit_of_work() as uow:
            repository = uow.repository
            # Under the order's lock: its payments' sums are exact, and a retry with the same
            # key (which waited here) finds the first payment.
            await uow.repository.cancelled_orders.lock(order.name)
            earlier = await repository.by_key(caller.user_name, key.text)
            if earlier is not None:
                same_request(earlier.idempotency_request, key)
                return await _with_log(repository, earlier)
            due = total - (await repository.order_sums(order.name)).held
            if due <= 0:
                raise AlreadyExists(f"{order.name} is paid, or has payments under way for all of its total",
                                    domain.ORDER_ALREADY_PAID)
            row["amount"] = due if amount is None else amount
            domain.check_amount(row["amount"], due, order.name)
            stored = await repository.add(row)
            if stored is None:
                if await uow.repository.cancelled_orders.is_cancelled(order.name):
                    raise FailedPrecondition(f"{order.name} is cancelled; only a confirmed order can be paid",
                                             domain.ORDER_CANCELLED)
                raise AlreadyExists(f"{application} has paid already", domain.LOAN_ALREADY_USED)
            payment = payment_to_proto(stored, [stored])  # the row carries its log's first line
            await uow.emit("payment.created", payment.name, payment_pb2.PaymentEvent(payment=payment))
            if application:
                # The bank disbursed the loan when it became active: the money is the dealer's.
                moved = await repository.move(stored.id, domain.PENDING, [
                    (domain.PROCESSING, f"paid by {application}"), (domain.COMPLETED, "the loan was disbursed")],
                    caller.user_name, {"bank_reference": application}, now())
                payment = payment_to_proto(*moved)
                await self._announce(uow, domain.COMPLETED, payment)
        if not card:
            return payment
        self.cards[stored.id] = card
        try:
            settled = await self._charge(stored)
        except Unavailable as outage:
            log.warning("payments/%s stays queued: %s", stored.id, outage.message)
            settled = None
        if settled is not None:
            return settled
        async with self.database.reading() as uow:
            repository = uow.repository
            return await _with_log(repository, await repository.by_id(stored.id))

    async def update_status(
        self, caller: Identity, payment_id: uuid.UUID, wanted: str, reason: str, bank_reference: str
    ) -> payment_pb2.Payment:
        async with self.database.unit_of_work() as uow:
            repository = uow.repository
            current = await self._locked(uow, payment_id)
            if current is None:
                raise NotFound(f"payments/{payment_id} does not exist")
            reason = domain.check_manual_change(current.method, current.status, wanted, reason,
                                                refund_refused=bool(current.refund_problem))
            values = {"failure_reason": reason} if wanted in (domain.FAILED, domain.CANCELLED) else {}
            if wanted == domain.COMPLETED and bank_reference.strip():
                values["bank_reference"] = bank_reference.strip()[:100]
            payment = payment_to_proto(*await repository.move(
                current.id, current.status, [(wanted, reason)], caller.user_name, values, now()))
            await self._announce(uow, wanted, payment)
        self.cards.pop(payment_id, None)
        return payment

    async def _charge(self, row) -> payment_pb2.Payment | None:
        """Charges the card of the pending payment `row` (its number in `self.cards`) and
        records the gateway's answer: the payment as that left it, None when something settled
        it meanwhile. Unavailable while the gateway is away: the payment stays queued."""
        outcome = await self.gateway.charge(row.transaction_id, str(row.amount), row.currency,
                                            self.cards[row.id])
        return await self._settle(row, outcome)

    async def _settle(self, row, outcome: Outcome) -> payment_pb2.Payment | None:
        """Records the gateway's answer for the payment `row`, once: a second answer for the
        same charge finds the payment no longer pending (None)."""
        payment_id = row.id
        sent = (domain.PROCESSING, "sent to the gateway")
        if outcome.approved:
            steps, values = [sent, (domain.COMPLETED, "approved")], {"bank_reference": outcome.bank_reference}
        else:
            steps = [sent, (domain.FAILED, outcome.decline_reason)]
            values = {"failure_reason": outcome.decline_reason, "failure_code": outcome.failure_code}
        async with self.database.unit_of_work() as uow:
            repository = uow.repository
            await repository.cancelled_orders.lock(row.order_id)
            # Still pending, as nearly always: settled in one statement, with no read first.
            moved = await repository.move(payment_id, domain.PENDING, steps, GATEWAY, values, now())
            if moved is None:
                current = await repository.by_id(payment_id, for_update=True)
                if outcome.approved and current.status == domain.CANCELLED:
                    log.warning("payments/%s was charged after it was cancelled; refunding it", payment_id)
                    refunding = await repository.move(
                        current.id, current.status,
                        [(domain.REFUNDING, "the gateway charged it after it was cancelled")], GATEWAY,
                        {"bank_reference": outcome.bank_reference}, now())
                    await self._announce(uow, domain.REFUNDING, payment_to_proto(*refunding))
                return None
            payment = payment_to_proto(*moved)
            await self._announce(uow, STATUS_NAME[payment.status], payment)
        self.cards.pop(payment_id, None)
        return payment

    async def drain_queue(self) -> int:
        """One pass over the card payments waiting for the gateway, charges then refunds;
        returns how many were settled."""
        if self.cards:
            await self._vouch_for_cards()
        async with self.database.reading() as uow:
            repository = uow.repository
            # A charge younger than a second may still be in its inline attempt; refunds have none.
            charges = await repository.waiting_for_gateway(domain.PENDING, now() - timedelta(seconds=1))
            refunds = await repository.waiting_for_gateway(domain.REFUNDING, now())
        settled = 0
        try:
            for row in charges:
                settled += await self._retry_charge(row)
            for row in refunds:
                reference, problem = await self.gateway.refund(row.transaction_id)
                await self._refunded(row.id, reference, problem)
                settled += 1
        except Unavailable:
            return settled  # the gateway went away mid-pass: the rest waits for the next pass
        return settled

    async def _retry_charge(self, row) -> int:
        """1 when the queued charge was settled; Unavailable while the gateway is away."""
        outcome = await self.gateway.status(row.transaction_id)
        if outcome.known:
            await self._settle(row, outcome)
        elif row.id in self.cards:
            await self._charge(row)
        elif self._orphaned(row):
            await self._cancel(row.id, "the card details were lost in a restart before the "
                                       "gateway could be reached; nothing was charged, please pay again")
        else:
            return 0
        return 1

    def _orphaned(self, row) -> bool:
        """A queued card payment old enough, whose card no live instance vouches for."""
        vouched = row.card_held_until is not None and row.card_held_until > now()
        return row.created_at < now() - self.orphan_after and not vouched

    async def _vouch_for_cards(self) -> None:
        """Tells the other instances this one still holds its queued payments' cards (so none of
        them cancels one as orphaned), and forgets the cards of payments they settled meanwhile."""
        held = list(self.cards)
        async with self.database.unit_of_work() as uow:
            pending = await uow.repository.vouch_for_cards(held, now() + CARD_LEASE)
        for payment_id in set(held) - pending:
            self.cards.pop(payment_id, None)

    async def _refunded(self, payment_id: uuid.UUID, reference: str, problem: str) -> None:
        """Records the gateway's answer to a refund: refunded, or why staff must refund by hand."""
        async with self.database.unit_of_work() as uow:
            repository = uow.repository
            current = await repository.by_id(payment_id, for_update=True)
            if current.status != domain.REFUNDING:
                return
            if problem:
                log.error("payments/%s: %s; staff must refund it by other means", payment_id, problem)
                await repository.note_refund_problem(payment_id, problem, now())
                refused = await _with_log(repository, await repository.by_id(payment_id))
                await uow.emit("payment.refund_refused", refused.name, payment_pb2.PaymentEvent(payment=refused))
                return
            refunded = await repository.move(current.id, current.status, [(domain.REFUNDED, "refunded")], GATEWAY,
                                             {"refund_reference": reference}, now())
            await self._announce(uow, domain.REFUNDED, payment_to_proto(*refunded))

    async def _cancel(self, payment_id: uuid.UUID, reason: str) -> None:
        async with self.database.unit_of_work() as uow:
            current = await uow.repository.by_id(payment_id, for_update=True)
            if current.status == domain.PENDING:
                await self._cancel_locked(uow, current, reason)

    async def _cancel_locked(self, uow: UnitOfWork, current, reason: str) -> None:
        """Cancels a pending payment whose row this unit of work holds locked."""
        repository = uow.repository
        cancelled = await repository.move(current.id, current.status, [(domain.CANCELLED, reason)], "payment",
                                          {"failure_reason": reason}, now())
        await self._announce(uow, domain.CANCELLED, payment_to_proto(*cancelled))
        self.cards.pop(current.id, None)

    async def order_cancelled(self, uow: UnitOfWork, order_name: str) -> None:
        """A cancelled order keeps no money: a payment still waiting is cancelled, one already
        made is refunded (card payments by the gateway queue, others by staff)."""
        repository = uow.repository
        await uow.repository.cancelled_orders.lock(order_name)
        await uow.repository.cancelled_orders.mark(order_name, now())
        for row in await repository.live_for_order(order_name):
            # Decided under the payment's lock: the gateway's answer may be being written right
            # now, and a payment read as pending before it commits is completed after.
            current = await repository.by_id(row.id, for_update=True)
            if current.status == domain.PENDING:
                await self._cancel_locked(uow, current, "the order was cancelled")
            elif current.status == domain.COMPLETED:
                refunding = await repository.move(current.id, current.status,
                                                  [(domain.REFUNDING, "the order was cancelled after it was paid")],
                                                  "payment", {}, now())
                await self._announce(uow, domain.REFUNDING, payment_to_proto(*refunding))
            elif current.status in domain.LIVE:
                log.error("%s was cancelled while payments/%s is %s; staff must settle it",
                          order_name, current.id, current.status)


    async def _payable(self, name: str) -> "Payable":
        """What `name` (an order, or an insurance policy) asks to be paid, if it may be paid now."""
        if name.startswith("policies/"):
            policy = await insurance.get_policy(self.peers, name)
            domain.check_policy(name, insurance_pb2.PolicyStatus.Name(policy.status).removeprefix("POLICY_STATUS_").lower())
            return Payable(name, policy.customer, money.from_proto(policy.premium, "premium"),
                           policy.premium.currency_code)
        order = await sales.get_order(self.peers, name)
        if order.status in (sales_pb2.ORDER_STATUS_PAID, sales_pb2.ORDER_STATUS_COMPLETED):
            raise AlreadyExists(f"{order.name} is paid already", domain.ORDER_ALREADY_PAID)
        if not order.ready_for_payment:
            raise FailedPrecondition(_not_ready(order), domain.ORDER_NOT_READY,
                                     {"order": order.name, "status": sales_pb2.OrderStatus.Name(order.status)})
        return Payable(order.name, order.customer, money.from_proto(order.total, "total"), order.total.currency_code)

    async def _locked(self, uow: UnitOfWork, payment_id: uuid.UUID):
        """The payment, held with its order's lock and its row's (in that order, as everyone
        takes them); None when there is no such payment."""
        row = await uow.repository.by_id(payment_id)
        if row is None:
            return None
        await uow.repository.cancelled_orders.lock(row.order_id)
        return await uow.repository.by_id(payment_id, for_update=True)

    async def _announce(self, uow: UnitOfWork, status: str, payment: payment_pb2.Payment) -> None:
        """The event of a payment's new status; a success tells what the order's completed
        payments now add up to (read under the order's lock, which the caller holds)."""
        event = STATUS_EVENT.get(status)
        if not event:
            return
        message = payment_pb2.PaymentEvent(payment=payment)
        if status == domain.COMPLETED:
            paid = (await uow.repository.order_sums(payment.order or payment.policy)).paid
            message.order_paid.CopyFrom(money.to_proto(paid))
        await uow.emit(f"payment.{event}", payment.name, message)


@dataclass(frozen=True)
class Payable:
    """What a payment pays: an order, or an insurance policy (its premium)."""
    name: str
    customer: str
    total: Decimal
    currency: str


async def _with_log(repository: PaymentRepository, row) -> payment_pb2.Payment:
    return payment_to_proto(row, (await repository.log_of([row.id]))[row.id])


def _loan_status(application) -> str:
    return financing_pb2.ApplicationStatus.Name(application.status).removeprefix("APPLICATION_STATUS_").lower()


def _not_ready(order: sales_pb2.Order) -> str:
    status = sales_pb2.OrderStatus.Name(order.status)[13:].lower()
    if order.status != sales_pb2.ORDER_STATUS_CONFIRMED:
        return f"{order.name} is {status}; only a confirmed order can be paid"
    waiting = [what for what, done in (("the vehicle's reservation", order.vehicle_reserved),
                                       ("the promo code", order.promo_code_redeemed)) if not done]
    return f"{order.name} is not ready for payment yet: waiting for {' and '.join(waiting)}; try again shortly"
