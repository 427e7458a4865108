"""Exact money: autosalon.common.v1.Money <-> Decimal, never a float on the way."""
import re
from decimal import ROUND_HALF_EVEN, Decimal

from autosalon.common.v1 import common_pb2

from .errors import INVALID_FORMAT, OUT_OF_RANGE, REQUIRED, invalid

DEFAULT_CURRENCY = "RUB"
KOPECK = Decimal("0.01")
# NUMERIC(14, 2) in the databases: up to a trillion roubles.
MAX_AMOUNT = Decimal("999999999999.99")


# Plain digits only: Python's Decimal would also take 1e400, NaN, 1_000 and non-Latin digits.
AMOUNT_TEXT = re.compile(r"-?[0-9]+(\.[0-9]+)?", re.ASCII)


def parse_amount(text: str, field: str) -> Decimal:
    """A decimal string with at most two fraction digits, or InvalidArgument on `field`."""
    text = text.strip()
    if not AMOUNT_TEXT.fullmatch(text):
        raise invalid(field, f"must be a decimal number like 1250000.00, not {text[:40]!r}", INVALID_FORMAT)
    amount = Decimal(text)
    if abs(amount) > MAX_AMOUNT:
        raise invalid(field, f"must be at most {MAX_AMOUNT}", OUT_OF_RANGE)
    if amount != amount.quantize(KOPECK):
        raise invalid(field, "must have at most two digits after the point", INVALID_FORMAT)
    # -0 is 0: an amount has no sign of its own when it is nothing.
    return abs(amount).quantize(KOPECK) if amount.is_zero() else amount.quantize(KOPECK)


def from_proto(money: common_pb2.Money, field: str, currency: str = DEFAULT_CURRENCY) -> Decimal:
    if not money.amount:
        raise invalid(f"{field}.amount", "is required", REQUIRED)
    if money.currency_code and money.currency_code != currency:
        raise invalid(f"{field}.currency_code", f"must be {currency}", OUT_OF_RANGE)
    return parse_amount(money.amount, f"{field}.amount")


def published(money: common_pb2.Money) -> Decimal:
    """An amount another service published in an event (checked by that service when it took
    it), zero where it left the amount empty."""
    return Decimal(money.amount or "0")


def to_proto(amount: Decimal, currency: str = DEFAULT_CURRENCY) -> common_pb2.Money:
    return common_pb2.Money(
        currency_code=currency, amount=str(amount.quantize(KOPECK, rounding=ROUND_HALF_EVEN))
    )
