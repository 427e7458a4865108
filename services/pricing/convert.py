"""pricing's rows <-> domain values <-> protobuf messages."""
import uuid
from datetime import datetime, timezone
from decimal import Decimal

from autosalon.pricing.v1 import pricing_pb2
from services.kit import money
from services.kit.protos import audit, timestamp
from services.kit.statements import Row

from . import domain

KIND_TO_PROTO = {domain.PERCENTAGE: pricing_pb2.DISCOUNT_KIND_PERCENTAGE,
                 domain.FIXED: pricing_pb2.DISCOUNT_KIND_FIXED}
KIND_FROM_PROTO = {number: kind for kind, number in KIND_TO_PROTO.items()}


def _time(message, field: str):
    return getattr(message, field).ToDatetime(tzinfo=timezone.utc) if message.HasField(field) else None


def scope_from_proto(scope: pricing_pb2.Scope) -> domain.Scope:
    min_price = Decimal("0")
    if scope.min_price.amount:
        min_price = money.from_proto(scope.min_price, "discount.scope.min_price")
    return domain.Scope(
        brands=tuple(brand.strip() for brand in scope.brands if brand.strip()),
        model_ids=tuple(name.removeprefix("models/") for name in scope.models),
        trim_ids=tuple(name.split("/")[-1] for name in scope.trims),
        min_price=min_price,
    )


def discount_from_proto(discount: pricing_pb2.Discount) -> domain.Discount:
    value = money.parse_amount(discount.value, "discount.value") if discount.value else Decimal("0")
    return domain.Discount(
        id="", title=discount.title, kind=KIND_FROM_PROTO.get(discount.kind, ""), value=value,
        valid_from=_time(discount, "valid_from"), valid_until=_time(discount, "valid_until"),
        scope=scope_from_proto(discount.scope), stackable=discount.stackable,
        automatic=discount.automatic, code=discount.code, usage_limit=discount.usage_limit,
        per_customer_limit=discount.per_customer_limit,
    )


def scope_to_row(scope: domain.Scope) -> dict:
    return {"brands": list(scope.brands), "model_ids": list(scope.model_ids),
            "trim_ids": list(scope.trim_ids), "min_price": str(scope.min_price)}


def new_discount_row(discount: domain.Discount, at: datetime, author: str) -> dict:
    """A validated discount's row as created `at` by `author`, with a new id."""
    return {
        "id": uuid.uuid4(), "title": discount.title, "kind": discount.kind,
        "value": discount.value, "valid_from": discount.valid_from,
        "valid_until": discount.valid_until, "scope": scope_to_row(discount.scope),
        "stackable": discount.stackable, "automatic": discount.automatic,
        "code": discount.code or None, "usage_limit": discount.usage_limit,
        "per_customer_limit": discount.per_customer_limit, "created_at": at,
        "updated_at": at, "created_by": author, "updated_by": author,
    }


def discount_from_row(row: Row) -> domain.Discount:
    scope = row.scope
    return domain.Discount(
        id=f"discounts/{row.id}", title=row.title, kind=row.kind, value=row.value,
        valid_from=row.valid_from, valid_until=row.valid_until,
        scope=domain.Scope(tuple(scope["brands"]), tuple(scope["model_ids"]),
                           tuple(scope["trim_ids"]), Decimal(scope["min_price"])),
        stackable=row.stackable, automatic=row.automatic, code=row.code or "",
        usage_limit=row.usage_limit, per_customer_limit=row.per_customer_limit,
    )


def _scope_to_proto(scope: dict) -> pricing_pb2.Scope:
    return pricing_pb2.Scope(
        brands=scope["brands"], models=[f"models/{i}" for i in scope["model_ids"]],
        trims=scope["trim_ids"], min_price=money.to_proto(Decimal(scope["min_price"])))


def discount_to_proto(row: Row) -> pricing_pb2.Discount:
    discount = pricing_pb2.Discount(
        name=f"discounts/{row.id}", title=row.title, kind=KIND_TO_PROTO[row.kind],
        value=str(row.value), scope=_scope_to_proto(row.scope), stackable=row.stackable,
        automatic=row.automatic, code=row.code or "", usage_limit=row.usage_limit,
        per_customer_limit=row.per_customer_limit, used_count=row.used_count, audit=audit(row),
    )
    for field in ("valid_from", "valid_until"):
        if getattr(row, field) is not None:
            getattr(discount, field).CopyFrom(timestamp(getattr(row, field)))
    return discount


def promo_code_to_proto(row: Row) -> pricing_pb2.PromoCode:
    code = pricing_pb2.PromoCode(code=row.code, title=row.title, kind=KIND_TO_PROTO[row.kind],
                                 value=str(row.value), scope=_scope_to_proto(row.scope))
    if row.valid_until is not None:
        code.valid_until.CopyFrom(timestamp(row.valid_until))
    return code


def quote_to_proto(breakdown: domain.Breakdown, code_problem: domain.CodeProblem,
                   options: list[domain.Option]) -> pricing_pb2.Quote:
    return pricing_pb2.Quote(
        lines=[pricing_pb2.QuoteLine(label=line.label, amount=money.to_proto(line.amount),
                                     discount=line.discount_id) for line in breakdown.lines],
        subtotal=money.to_proto(breakdown.subtotal),
        discount_total=money.to_proto(breakdown.discount_total),
        total=money.to_proto(breakdown.total),
        code_problem=code_problem.text, code_problem_reason=code_problem.reason,
        options=[pricing_pb2.Option(name=option.name, price=money.to_proto(option.price)) for option in options],
    )
