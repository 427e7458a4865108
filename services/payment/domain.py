"""Payment rules: methods, the status machine, and what a card number must be."""
import re

from services.kit.cards import luhn_valid
from services.kit.errors import FailedPrecondition, InvalidArgument

CARD, BANK_TRANSFER, CASH, CREDIT = "card", "bank_transfer", "cash", "credit"
PENDING, PROCESSING, COMPLETED, FAILED, CANCELLED = (
    "pending", "processing", "completed", "failed", "cancelled")
# A payment that holds (or will hold) the order's money; one at most per order.
LIVE = (PENDING, PROCESSING, COMPLETED)
REASON_MAX = 500

TRANSITIONS = {
    PENDING: {PROCESSING, CANCELLED},
    PROCESSING: {COMPLETED, FAILED, CANCELLED},
    COMPLETED: set(),
    FAILED: set(),
    CANCELLED: set(),
}


def check_transition(current: str, wanted: str) -> None:
    if wanted not in TRANSITIONS[current]:
        raise FailedPrecondition(f"payment is {current}; it cannot become {wanted}")


def check_manual_change(method: str, current: str, wanted: str, reason: str) -> str:
    """A manager's status change. Card payments belong to the gateway: staff may only cancel
    one still waiting for it."""
    check_transition(current, wanted)
    reason = reason.strip()
    if len(reason) > REASON_MAX:
        raise InvalidArgument({"reason": f"must be at most {REASON_MAX} characters"})
    if wanted in (FAILED, CANCELLED) and not reason:
        raise InvalidArgument({"reason": f"is required to mark a payment {wanted}"})
    if method == CARD and not (current == PENDING and wanted == CANCELLED):
        raise FailedPrecondition("a card payment's outcome comes from the gateway; "
                                 "staff may only cancel one still pending")
    return reason


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
