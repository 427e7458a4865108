"""sales' conversions between the Order aggregate and its protobuf messages."""
from decimal import Decimal

from google.protobuf import json_format

from autosalon.common.v1 import common_pb2
from autosalon.pricing.v1 import pricing_pb2
from autosalon.sales.v1 import sales_pb2
from services.kit import money
from services.kit.protos import timestamp

from . import domain

STATUS = {
    domain.DRAFT: sales_pb2.ORDER_STATUS_DRAFT,
    domain.CONFIRMED: sales_pb2.ORDER_STATUS_CONFIRMED,
    domain.PAID: sales_pb2.ORDER_STATUS_PAID,
    domain.COMPLETED: sales_pb2.ORDER_STATUS_COMPLETED,
    domain.CANCELLED: sales_pb2.ORDER_STATUS_CANCELLED,
}
STATUS_NAME = {value: key for key, value in STATUS.items()}


def quote_to_json(quote: pricing_pb2.Quote) -> dict:
    return json_format.MessageToDict(quote, preserving_proto_field_name=True)


def option_names(options) -> list[str]:
    """The extras a request names: pricing prices them from the trim (a price sent is not read)."""
    return [option.name for option in options]


def priced_options(quote: pricing_pb2.Quote) -> list[dict]:
    """The options as the quote priced them, as an order keeps them."""
    return [{"name": option.name, "price": str(money.from_proto(option.price, "price"))} for option in quote.options]


def order_to_proto(order: domain.Order) -> sales_pb2.Order:
    price = json_format.ParseDict(order.price, pricing_pb2.Quote(), ignore_unknown_fields=True)
    return sales_pb2.Order(
        name=order.name, customer=order.customer, vehicle=order.vehicle, trim=order.trim,
        vehicle_title=order.vehicle_title, promo_code=order.promo_code,
        options=[pricing_pb2.Option(name=option["name"], price=money.to_proto(Decimal(option["price"])))
                 for option in order.options],
        notes=order.notes, price=price, total=money.to_proto(order.total),
        status=STATUS[order.status], cancel_reason=order.cancel_reason,
        vehicle_reserved=order.vehicle_reserved,
        promo_code_redeemed=order.status != domain.DRAFT and order.code_settled,
        ready_for_payment=order.ready_for_payment, payment=order.payment, etag=str(order.version),
        audit=common_pb2.AuditInfo(
            create_time=timestamp(order.created_at), update_time=timestamp(order.updated_at),
            created_by=order.created_by, updated_by=order.updated_by),
        # Only while the car is held: paid, it is sold; cancelled, it is given back.
        held_until=timestamp(order.held_until) if order.held and order.held_until else None,
    )


def event_to_proto(event: domain.Event) -> sales_pb2.OrderEvent:
    return sales_pb2.OrderEvent(
        version=event.version, type=event.type, actor=event.actor,
        occur_time=timestamp(event.occurred_at), detail=domain.describe(event),
        trace_id=event.trace_id)
