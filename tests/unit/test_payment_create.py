"""payment's create (PaymentHandlers.create) on an in-memory unit of work: every branch of
paying for an order, from the first charge to a retried key, a refused order and a gateway
that is away."""
import types
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest

from autosalon.common.v1 import common_pb2
from autosalon.financing.v1 import financing_pb2
from autosalon.payment.v1 import payment_pb2
from autosalon.sales.v1 import sales_pb2
from services.kit import errors
from services.kit.idempotency import IdempotencyKey
from services.kit.identity import Identity
from services.payment import domain
from services.payment.gateway import Outcome
from services.payment.handlers import PaymentHandlers

from .memory import MemoryDatabase

BUYER = Identity(str(uuid.uuid4()), "client", "buyer@example.ru", "t")
ORDER = f"orders/{uuid.uuid4()}"
LOAN = f"applications/{uuid.uuid4()}"
CARD = "4111 1111 1111 1111"


class Payments:
    """payment's repository in memory, with the rules its statements keep: one live payment a
    loan, one payment an idempotency key, nothing for an order heard cancelled."""

    def __init__(self):
        self.rows: dict[uuid.UUID, dict] = {}
        self.logs: dict[uuid.UUID, list] = {}
        self.cancelled: set[str] = set()
        self.locked: list[str] = []
        self.cancelled_orders = self

    async def lock(self, order_id: str) -> None:
        self.locked.append(order_id)

    async def is_cancelled(self, order_id: str) -> bool:
        return order_id in self.cancelled

    async def add(self, row: dict):
        taken = any(row["application"] and other["application"] == row["application"] and other["status"] in domain.LIVE
                    or (other["created_by"], other["idempotency_key"]) == (row["created_by"], row["idempotency_key"])
                    for other in self.rows.values())
        if taken or row["order_id"] in self.cancelled:
            return None
        self.rows[row["id"]] = {**row, "refund_reference": "", "refund_problem": "", "failure_code": ""}
        self.logs[row["id"]] = []
        self._log(row["id"], None, row["status"], row["created_by"], "created", row["created_at"])
        return types.SimpleNamespace(**self.rows[row["id"]], **vars(self.logs[row["id"]][0]))

    def _log(self, payment_id, from_status, to_status, actor, reason, moment):
        self.logs[payment_id].append(types.SimpleNamespace(
            payment_id=payment_id, seq=len(self.logs[payment_id]) + 1, from_status=from_status,
            to_status=to_status, changed_at=moment, actor=actor, reason=reason))

    async def order_sums(self, order_id: str):
        live = [row for row in self.rows.values() if row["order_id"] == order_id and row["status"] in domain.LIVE]
        return types.SimpleNamespace(held=sum((row["amount"] for row in live), Decimal(0)),
                                     paid=sum((row["amount"] for row in live if row["status"] == domain.COMPLETED),
                                              Decimal(0)))

    async def by_key(self, creator: str, key: str):
        return next((types.SimpleNamespace(**row) for row in self.rows.values()
                     if (row["created_by"], row["idempotency_key"]) == (creator, key)), None)

    async def by_id(self, payment_id, for_update=False):
        row = self.rows.get(payment_id)
        return None if row is None else types.SimpleNamespace(**row)

    async def log_of(self, payment_ids):
        return {payment_id: list(self.logs[payment_id]) for payment_id in payment_ids}

    async def move(self, payment_id, status, steps, actor, values, moment):
        row = self.rows[payment_id]
        if row["status"] != status:
            return None
        for wanted, reason in steps:
            domain.check_transition(row["status"], wanted)
            self._log(payment_id, row["status"], wanted, actor, reason, moment)
            row["status"] = wanted
        row.update(values, updated_at=moment)
        return types.SimpleNamespace(**row), list(self.logs[payment_id])


class Gateway:
    """The payment gateway as payment sees it: approves, declines, or is away."""

    def __init__(self, answer: Outcome | None):
        self.answer = answer
        self.charges: list[str] = []

    async def charge(self, transaction_id, amount, currency, card_number) -> Outcome:
        self.charges.append(card_number)
        if self.answer is None:
            raise errors.Unavailable("the payment gateway is unavailable (circuit open)")
        return self.answer


class Peers:
    """sales and financing behind kit.calls.Peers: the order, and the loan, they hold."""

    def __init__(self, **order):
        ready = {"status": sales_pb2.ORDER_STATUS_CONFIRMED, "vehicle_reserved": True,
                 "promo_code_redeemed": True, "ready_for_payment": True}
        self.order = sales_pb2.Order(name=ORDER, customer=BUYER.user_name, **{**ready, **order},
                                     total=common_pb2.Money(currency_code="RUB", amount="2399000.00"))
        self.loan = financing_pb2.Application(
            name=LOAN, customer=BUYER.user_name, order=ORDER, status=financing_pb2.APPLICATION_STATUS_ACTIVE,
            loan_amount=common_pb2.Money(currency_code="RUB", amount="1900000.00"))

    async def call(self, service, stub, method, request, **options):
        if service == "financing":
            assert (method, request.name) == ("GetApplication", LOAN)
            return self.loan
        assert (service, method, request.name) == ("sales", "GetOrder", ORDER)
        return self.order


APPROVED = Outcome(known=True, approved=True, bank_reference="BANK-1")
DECLINED = Outcome(known=True, approved=False, decline_reason="insufficient funds",
                   failure_code=domain.INSUFFICIENT_FUNDS)


def _payments(answer: Outcome | None = APPROVED, **order):
    repository, gateway = Payments(), Gateway(answer)
    database = MemoryDatabase(repository, "payment")
    handlers = PaymentHandlers(database, Peers(**order), gateway, orphan_after=timedelta(minutes=15))
    return handlers, repository, gateway, database


async def _pay(handlers, key="key-1", method=domain.CARD, card=CARD, request="the request", amount=None,
               application=""):
    return await handlers.create(BUYER, ORDER, method, card, IdempotencyKey(key, request), amount, application)


def _events(database) -> list[str]:
    return [entity_event for entity_event, *_ in database.committed]


async def test_a_card_the_gateway_approves_completes_the_payment_and_says_so():
    handlers, repository, gateway, database = _payments()
    payment = await _pay(handlers)
    assert payment.status == payment_pb2.PAYMENT_STATUS_COMPLETED
    assert (payment.amount.amount, payment.card_last_four, payment.bank_reference) == ("2399000.00", "1111", "BANK-1")
    assert [change.to_status for change in payment.status_log] == [
        payment_pb2.PAYMENT_STATUS_PENDING, payment_pb2.PAYMENT_STATUS_PROCESSING, payment_pb2.PAYMENT_STATUS_COMPLETED]
    assert _events(database) == ["payment.created", "payment.succeeded"]
    assert repository.locked == [ORDER, ORDER], "the order's lock is held to pay it and to settle the charge"
    assert gateway.charges == ["4111111111111111"]
    succeeded = database.committed[-1][2]
    assert succeeded.order_paid.amount == "2399000.00"
    assert handlers.cards == {}, "a card number is kept no longer than its charge"


async def test_a_declined_card_fails_the_payment():
    handlers, _, _, database = _payments(DECLINED)
    payment = await _pay(handlers)
    assert (payment.status, payment.failure_reason, payment.failure_code) == (
        payment_pb2.PAYMENT_STATUS_FAILED, "insufficient funds", "INSUFFICIENT_FUNDS")
    assert _events(database) == ["payment.created", "payment.failed"]


async def test_while_the_gateway_is_away_the_payment_waits_in_the_queue():
    handlers, _, gateway, database = _payments(answer=None)
    payment = await _pay(handlers)
    assert payment.status == payment_pb2.PAYMENT_STATUS_PENDING and len(gateway.charges) == 1
    assert _events(database) == ["payment.created"]
    assert list(handlers.cards.values()) == ["4111111111111111"], "the queue charges it when the gateway is back"


async def test_a_retried_key_answers_with_the_first_payment_and_charges_nothing_more():
    handlers, repository, gateway, database = _payments()
    first = await _pay(handlers)
    again = await _pay(handlers)
    assert again == first and len(repository.rows) == 1 and len(gateway.charges) == 1
    assert _events(database) == ["payment.created", "payment.succeeded"]


async def test_a_key_used_for_another_request_is_refused_not_answered_with_the_first():
    handlers, repository, gateway, database = _payments()
    await _pay(handlers, request="pay order A by card")
    with pytest.raises(errors.InvalidArgument) as refused:
        await _pay(handlers, request="pay order B by cash")
    assert refused.value.violations[0][0] == "idempotency_key"
    assert len(repository.rows) == 1 and len(gateway.charges) == 1


async def test_cash_is_recorded_as_pending_for_staff_to_confirm():
    handlers, _, gateway, database = _payments()
    payment = await _pay(handlers, method=domain.CASH, card="")
    assert payment.status == payment_pb2.PAYMENT_STATUS_PENDING and gateway.charges == []
    assert _events(database) == ["payment.created"]


@pytest.mark.parametrize("order, refusal, words", [
    ({"status": sales_pb2.ORDER_STATUS_PAID}, errors.AlreadyExists, "is paid already"),
    ({"status": sales_pb2.ORDER_STATUS_DRAFT, "ready_for_payment": False}, errors.FailedPrecondition,
     "is draft; only a confirmed order can be paid"),
    ({"vehicle_reserved": False, "ready_for_payment": False}, errors.FailedPrecondition,
     "waiting for the vehicle's reservation"),
])
async def test_an_order_not_ready_to_be_paid_is_refused_with_nothing_written(order, refusal, words):
    handlers, repository, gateway, database = _payments(**order)
    with pytest.raises(refusal, match=words):
        await _pay(handlers)
    assert repository.rows == {} and gateway.charges == [] and database.committed == []


async def test_an_order_heard_cancelled_is_not_charged():
    handlers, repository, gateway, database = _payments()
    repository.cancelled.add(ORDER)
    with pytest.raises(errors.FailedPrecondition, match="is cancelled"):
        await _pay(handlers)
    assert repository.locked == [ORDER], "the order's lock is taken before looking"
    assert repository.rows == {} and gateway.charges == [] and database.committed == []


async def test_a_second_payment_for_an_order_under_way_for_all_of_it_is_refused():
    handlers, repository, gateway, _ = _payments(answer=None)
    await _pay(handlers, key="key-1")
    with pytest.raises(errors.AlreadyExists, match="has payments under way for all of its total"):
        await _pay(handlers, key="key-2")
    assert len(repository.rows) == 1 and len(gateway.charges) == 1


async def test_an_order_is_paid_in_parts_and_never_beyond_its_total():
    handlers, repository, gateway, database = _payments()
    cash = await _pay(handlers, key="cash", method=domain.CASH, card="", amount=Decimal("400000.00"))
    assert (cash.amount.amount, cash.order_total.amount) == ("400000.00", "2399000.00")
    with pytest.raises(errors.FailedPrecondition, match="has 1999000.00 left to pay"):
        await _pay(handlers, key="too-much", amount=Decimal("2000000.00"))
    with pytest.raises(errors.InvalidArgument):
        await _pay(handlers, key="nothing", amount=Decimal("0.00"))
    card = await _pay(handlers, key="card")
    assert card.amount.amount == "1999000.00" and card.status == payment_pb2.PAYMENT_STATUS_COMPLETED
    assert database.committed[-1][2].order_paid.amount == "1999000.00", "the cash is not completed yet"
    with pytest.raises(errors.AlreadyExists, match="under way for all of its total"):
        await _pay(handlers, key="more")


async def test_an_active_loan_pays_its_amount_at_once_and_a_card_the_rest():
    handlers, repository, gateway, database = _payments()
    loan = await _pay(handlers, key="loan", method=domain.CREDIT, card="", application=LOAN)
    assert (loan.status, loan.amount.amount, loan.application) == (
        payment_pb2.PAYMENT_STATUS_COMPLETED, "1900000.00", LOAN)
    assert database.committed[-1][2].order_paid.amount == "1900000.00"
    down = await _pay(handlers, key="down")
    assert down.amount.amount == "499000.00" and gateway.charges == ["4111111111111111"]
    assert database.committed[-1][2].order_paid.amount == "2399000.00"
    with pytest.raises(errors.AlreadyExists):
        await _pay(handlers, key="loan-again", method=domain.CREDIT, card="", application=LOAN)


@pytest.mark.parametrize("loan, words", [
    ({"status": financing_pb2.APPLICATION_STATUS_APPROVED}, "is approved; only an active loan"),
    ({"order": f"orders/{uuid.uuid4()}"}, "was made for orders/"),
    ({"customer": "users/someone-else"}, "is users/someone-else's"),
])
async def test_a_loan_pays_only_when_active_and_only_its_order_and_customer(loan, words):
    handlers, repository, _, database = _payments()
    for field, value in loan.items():
        setattr(handlers.peers.loan, field, value)
    with pytest.raises(errors.FailedPrecondition, match=words):
        await _pay(handlers, key="loan", method=domain.CREDIT, card="", application=LOAN)
    assert repository.rows == {} and database.committed == []


@pytest.mark.parametrize("method, application", [(domain.CREDIT, ""), (domain.CREDIT, "loans/1"),
                                                 (domain.CARD, LOAN)])
async def test_only_a_credit_payment_names_its_loan(method, application):
    handlers, repository, _, _ = _payments()
    with pytest.raises(errors.InvalidArgument) as refused:
        await _pay(handlers, method=method, card=CARD if method == domain.CARD else "", application=application)
    assert refused.value.violations[0][0] == "application" and repository.rows == {}


@pytest.mark.parametrize("card", ["4111 1111 1111 1112", "12ab", ""])
async def test_a_card_payment_needs_a_card_number_that_passes_luhn(card):
    handlers, repository, _, _ = _payments()
    with pytest.raises(errors.InvalidArgument):
        await _pay(handlers, card=card)
    assert repository.rows == {}

