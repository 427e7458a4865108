"""Payment rules: methods, the status machine, and what a card number must be."""
import re
import uuid
from decimal import Decimal

from services.kit.errors import FailedPrecondition, InvalidArgument
from services.peers.payment import luhn_valid

CARD, BANK_TRANSFER, CASH, CREDIT = "card", "bank_transfer", "cash", "credit"
PENDING, PROCESSING, COMPLETED, FAILED, CANCELLED, REFUNDING, REFUNDED = (
    "pending", "processing", "completed", "failed", "cancelled", "refunding", "refunded")
# A payment that holds (or will hold) the order's money; one at most per order.
LIVE = (PENDING, PROCESSING, COMPLETED)
REASON_MAX = 500

# Why payment refuses a request (google.rpc.ErrorInfo.reason; proto/autosalon/ERRORS.md lists them).
ORDER_NOT_READY = "ORDER_NOT_READY"
ORDER_ALREADY_PAID = "ORDER_ALREADY_PAID"
ORDER_CANCELLED = "ORDER_CANCELLED"
AMOUNT_ABOVE_DUE = "AMOUNT_ABOVE_DUE"
PAYMENT_WRONG_STATE = "PAYMENT_WRONG_STATE"
LOAN_NOT_ACTIVE = "LOAN_NOT_ACTIVE"
LOAN_NOT_FOR_THIS_ORDER = "LOAN_NOT_FOR_THIS_ORDER"
LOAN_ALREADY_USED = "LOAN_ALREADY_USED"
POLICY_NOT_PAYABLE = "POLICY_NOT_PAYABLE"
# Why a card payment failed (Payment.failure_code): a declined charge is a payment's outcome,
# not a refused request, so these travel in the payment, in the same words.
CARD_DECLINED = "CARD_DECLINED"
INSUFFICIENT_FUNDS = "INSUFFICIENT_FUNDS"
GATEWAY_REFUSED = "GATEWAY_REFUSED"

TRANSITIONS = {
    PENDING: {PROCESSING, CANCELLED},
    PROCESSING: {COMPLETED, FAILED, CANCELLED},
    # Money taken for an order cancelled meanwhile goes back; a cancelled payment becomes
    # refunding only when the gateway turns out to have charged it after all.
    COMPLETED: {REFUNDING},
    CANCELLED: {REFUNDING},
    REFUNDING: {REFUNDED},
    FAILED: set(),
    REFUNDED: set(),
}


def check_transition(current: str, wanted: str) -> None:
    if wanted not in TRANSITIONS[current]:
        raise FailedPrecondition(f"payment is {current}; it cannot become {wanted}", PAYMENT_WRONG_STATE,
                                 {"status": current})


def check_manual_change(method: str, current: str, wanted: str, reason: str,
                        refund_refused: bool = False) -> str:
    """A manager's status change. Card payments belong to the gateway: staff may only cancel
    one still waiting for it, or record as refunded by other means one whose refund the gateway
    refused. Refunds themselves start from a cancelled order, never by hand."""
    check_transition(current, wanted)
    if wanted == REFUNDING:
        raise FailedPrecondition("a refund starts when the order is cancelled, not by hand", PAYMENT_WRONG_STATE)
    reason = reason.strip()
    if len(reason) > REASON_MAX:
        raise InvalidArgument({"reason": f"must be at most {REASON_MAX} characters"})
    if wanted in (FAILED, CANCELLED, REFUNDED) and not reason:
        raise InvalidArgument({"reason": f"is required to mark a payment {wanted}"})
    if method == CARD and wanted == REFUNDED and not refund_refused:
        raise FailedPrecondition("the gateway is refunding this card payment; it becomes refunded "
                                 "by itself", PAYMENT_WRONG_STATE)
    if method == CARD and (current, wanted) not in ((PENDING, CANCELLED), (REFUNDING, REFUNDED)):
        raise FailedPrecondition("a card payment's outcome comes from the gateway; staff may only "
                                 "cancel one still pending or record a refund the gateway refused", PAYMENT_WRONG_STATE)
    return reason


def loan_reference(method: str, application: str) -> str:
    """The loan a credit payment is made by, "applications/{uuid}"; none for other methods."""
    application = application.strip()
    if method != CREDIT:
        if application:
            raise InvalidArgument({"application": f"is only for credit payments, not {method}"})
        return ""
    prefix, _, application_id = application.partition("/")
    if prefix != "applications" or not _is_uuid(application_id):
        raise InvalidArgument({"application": "is required for a credit payment: the active loan, "
                                              "applications/{uuid}"})
    return application


def _is_uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def check_loan(application: str, status: str, loan_order: str, loan_customer: str, order: str,
               customer: str) -> None:
    """A loan pays an order only once the bank disbursed it (active), and only the order and the
    customer it was made for."""
    if status != "active":
        raise FailedPrecondition(f"{application} is {status}; only an active loan pays an order", LOAN_NOT_ACTIVE,
                                 {"application": application, "status": status})
    if loan_order != order:
        raise FailedPrecondition(f"{application} was made for {loan_order or 'no order'}, not {order}",
                                 LOAN_NOT_FOR_THIS_ORDER)
    if loan_customer != customer:
        raise FailedPrecondition(f"{application} is {loan_customer}'s, not the customer of {order}",
                                 LOAN_NOT_FOR_THIS_ORDER)


def check_policy(policy: str, status: str) -> None:
    """A policy is paid once, when quoted."""
    if status != "quoted":
        raise FailedPrecondition(f"{policy} is {status}; only a quoted policy can be paid", POLICY_NOT_PAYABLE,
                                 {"policy": policy, "status": status})


def check_amount(amount: Decimal, due: Decimal, order: str) -> None:
    """A payment pays more than nothing and at most what is left of its order."""
    if amount <= 0:
        raise InvalidArgument({"amount.amount": "must be more than 0"})
    if amount > due:
        raise FailedPrecondition(f"{order} has {due} left to pay; a payment of {amount} is more than that",
                                 AMOUNT_ABOVE_DUE, {"due": str(due)})


def card_number(method: str, raw: str) -> str:
    """The card number as digits (spaces and dashes dropped), only for card payments."""
    digits = re.sub(r"[\s-]", "", raw)
    if method != CARD:
        if digits:
            raise InvalidArgument({"card_number": f"is only for card payments, not {method}"})
        return ""
    if not digits:
        raise InvalidArgument({"card_number": "is required for a card payment"})
    if not luhn_valid(digits):
        raise InvalidArgument({"card_number": "is not a valid card number (12 to 19 digits, Luhn check)"})
    return digits
