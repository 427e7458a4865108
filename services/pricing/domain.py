"""pricing's rules: discounts and promo codes, and the price breakdown of a vehicle.

The breakdown is base + trim + options − discounts = total, in kopecks, never below zero.
Automatic promotions apply by themselves; a promo code adds its discount. Stackable discounts
apply together; a non-stackable one applies alone — whichever gives the customer more wins.
"""
import datetime
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import NamedTuple

from services.kit.errors import InvalidArgument
from services.kit.masks import masked_fields

# Why pricing refuses a promo code or a change (google.rpc.ErrorInfo.reason, and a quote's
# code_problem_reason; proto/autosalon/ERRORS.md lists them).
PROMO_CODE_UNKNOWN = "PROMO_CODE_UNKNOWN"
PROMO_CODE_NOT_YET_VALID = "PROMO_CODE_NOT_YET_VALID"
PROMO_CODE_EXPIRED = "PROMO_CODE_EXPIRED"
PROMO_CODE_USED_UP = "PROMO_CODE_USED_UP"
PROMO_CODE_CUSTOMER_LIMIT = "PROMO_CODE_CUSTOMER_LIMIT"
PROMO_CODE_NOT_APPLICABLE = "PROMO_CODE_NOT_APPLICABLE"
PROMO_CODE_TAKEN = "PROMO_CODE_TAKEN"
USAGE_LIMIT_BELOW_USES = "USAGE_LIMIT_BELOW_USES"
ORDER_CANCELLED = "ORDER_CANCELLED"

KOPECK = Decimal("0.01")
PERCENTAGE, FIXED = "percentage", "fixed"
MAX_CODE = 40


@dataclass(frozen=True)
class Scope:
    """Where a discount applies; empty lists mean anywhere."""
    brands: tuple[str, ...] = ()
    model_ids: tuple[str, ...] = ()
    trim_ids: tuple[str, ...] = ()
    min_price: Decimal = Decimal("0")


@dataclass(frozen=True)
class Discount:
    id: str
    title: str
    kind: str
    value: Decimal
    valid_from: datetime.datetime | None
    valid_until: datetime.datetime | None
    scope: Scope
    stackable: bool
    automatic: bool
    code: str = ""
    usage_limit: int = 0
    per_customer_limit: int = 0


@dataclass(frozen=True)
class Vehicle:
    brand: str
    model_id: str
    trim_id: str
    base_price: Decimal
    trim_price_delta: Decimal
    # A vehicle from stock with a price of its own (a used car, say) instead of its trim's.
    own_price: Decimal | None = None

    @property
    def price(self) -> Decimal:
        if self.own_price is not None:
            return self.own_price
        return self.base_price + self.trim_price_delta


@dataclass(frozen=True)
class Option:
    name: str
    price: Decimal


@dataclass(frozen=True)
class Line:
    label: str
    amount: Decimal
    discount_id: str = ""


@dataclass(frozen=True)
class Breakdown:
    lines: list[Line] = field(default_factory=list)
    subtotal: Decimal = Decimal("0")
    discount_total: Decimal = Decimal("0")
    total: Decimal = Decimal("0")
    applied: tuple[str, ...] = ()


def normalize_code(code: str) -> str:
    return code.strip().upper()


def validate_discount(discount: Discount, prefix: str = "discount") -> Discount:
    problems = []
    if not discount.title.strip() or len(discount.title.strip()) > 120:
        problems.append((f"{prefix}.title", "is required, at most 120 characters"))
    if discount.kind not in (PERCENTAGE, FIXED):
        problems.append((f"{prefix}.kind", "must be percentage or fixed"))
    elif discount.kind == PERCENTAGE and not Decimal("0") < discount.value <= Decimal("100"):
        problems.append((f"{prefix}.value", "a percentage is more than 0 and at most 100"))
    elif discount.kind == FIXED and discount.value <= 0:
        problems.append((f"{prefix}.value", "a fixed discount is more than zero"))
    if discount.value != discount.value.quantize(KOPECK):
        problems.append((f"{prefix}.value", "at most two digits after the point"))
    if discount.valid_from and discount.valid_until and discount.valid_from >= discount.valid_until:
        problems.append((f"{prefix}.valid_until", "must be after valid_from"))
    if discount.usage_limit < 0 or discount.per_customer_limit < 0:
        problems.append((f"{prefix}.usage_limit", "limits are zero (none) or more"))
    code = normalize_code(discount.code)
    if discount.automatic and code:
        problems.append((f"{prefix}.code", "an automatic promotion has no code"))
    if not discount.automatic and not code:
        problems.append((f"{prefix}.code", "is required unless the discount is automatic"))
    if code and (len(code) > MAX_CODE or not code.replace("-", "").replace("_", "").isalnum()):
        problems.append((f"{prefix}.code", f"letters, digits, - and _, at most {MAX_CODE}"))
    if discount.scope.min_price < 0:
        problems.append((f"{prefix}.scope.min_price", "must not be negative"))
    if problems:
        raise InvalidArgument(problems, "discount has invalid fields")
    return Discount(**{**discount.__dict__, "title": discount.title.strip(), "code": code})


EDITABLE = {"title", "value", "valid_from", "valid_until", "scope", "stackable", "usage_limit",
            "per_customer_limit"}


def merge_update(current: Discount, changes: Discount, mask: list[str]) -> Discount:
    """The discount with the masked fields taken from `changes`, validated."""
    fields = masked_fields(mask, EDITABLE)
    merged = Discount(**{
        name: getattr(changes if name in fields else current, name) for name in current.__dict__})
    return validate_discount(merged)


class CodeProblem(NamedTuple):
    """Why a quote's promo code did not apply: in words, and as its reason."""
    text: str
    reason: str


NO_PROBLEM = CodeProblem("", "")


def in_force(discount: Discount, at: datetime.datetime) -> bool:
    return not out_of_force(discount, at)


def out_of_force(discount: Discount, at: datetime.datetime) -> str:
    """Why the discount does not apply `at` (PROMO_CODE_NOT_YET_VALID, PROMO_CODE_EXPIRED); ""
    within its dates."""
    if discount.valid_from is not None and at < discount.valid_from:
        return PROMO_CODE_NOT_YET_VALID
    if discount.valid_until is not None and at >= discount.valid_until:
        return PROMO_CODE_EXPIRED
    return ""


def in_scope(discount: Discount, vehicle: Vehicle, subtotal: Decimal) -> bool:
    scope = discount.scope
    return (
        (not scope.brands or vehicle.brand.lower() in {brand.lower() for brand in scope.brands})
        and (not scope.model_ids or vehicle.model_id in scope.model_ids)
        and (not scope.trim_ids or vehicle.trim_id in scope.trim_ids)
        and subtotal >= scope.min_price
    )


def amount_off(discount: Discount, subtotal: Decimal) -> Decimal:
    if discount.kind == PERCENTAGE:
        return (subtotal * discount.value / 100).quantize(KOPECK, rounding=ROUND_HALF_UP)
    return discount.value


def _combination(discounts: list[Discount], subtotal: Decimal) -> tuple[Decimal, list[tuple[Discount, Decimal]]]:
    """What a set of discounts takes off together, never more than the subtotal."""
    left, taken = subtotal, []
    for discount in discounts:
        amount = min(amount_off(discount, subtotal), left)
        left -= amount
        taken.append((discount, amount))
    return subtotal - left, taken


def quote(vehicle: Vehicle, options: list[Option], candidates: list[Discount],
          at: datetime.datetime) -> Breakdown:
    """The breakdown with the best allowed choice among the candidates in force and in scope."""
    if vehicle.own_price is not None:
        lines = [Line("vehicle price", vehicle.own_price)]
    else:
        lines = [Line("base price", vehicle.base_price)]
        if vehicle.trim_price_delta:
            lines.append(Line("trim", vehicle.trim_price_delta))
    lines += [Line(f"option: {option.name}", option.price) for option in options]
    subtotal = sum((line.amount for line in lines), Decimal("0"))
    usable = [d for d in candidates if in_force(d, at) and in_scope(d, vehicle, subtotal)]
    choices = [[d for d in usable if d.stackable]] + [[d] for d in usable if not d.stackable]
    best_total, best = max(
        (_combination(choice, subtotal) for choice in choices), key=lambda result: result[0])
    lines += [Line(f"discount: {d.title}", -amount, d.id) for d, amount in best if amount]
    total = subtotal - best_total
    return Breakdown(
        lines=lines, subtotal=subtotal, discount_total=best_total, total=total,
        applied=tuple(d.id for d, amount in best if amount),
    )


def priced_options(names: list[str], offered: list[Option]) -> list[Option]:
    """The options asked for by name (any case), each at the price the trim offers it at: a
    buyer names an extra, never prices it. Each at most once."""
    prices = {option.name.strip().casefold(): option for option in offered}
    problems, chosen, seen = [], [], set()
    for index, name in enumerate(names):
        key = name.strip().casefold()
        if not key:
            problems.append((f"options[{index}].name", "is required"))
        elif key not in prices:
            on_offer = ", ".join(option.name for option in offered) or "none"
            problems.append((f"options[{index}].name", f"is not an option of this trim (it offers: {on_offer})"))
        elif key in seen:
            problems.append((f"options[{index}].name", "is asked for twice"))
        else:
            seen.add(key)
            chosen.append(prices[key])
    if len(names) > 50:
        problems.append(("options", "at most 50 options"))
    if problems:
        raise InvalidArgument(problems)
    return chosen
