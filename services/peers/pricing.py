"""pricing's client: the price of a trim as a breakdown (base, trim, options, discounts)."""
from decimal import Decimal

from autosalon.pricing.v1 import pricing_pb2, pricing_pb2_grpc
from services.kit import money
from services.kit.calls import Peers


async def create_quote(peers: Peers, trim: str, promo_code: str, options: list[str],
                       vehicle_price: Decimal | None = None) -> pricing_pb2.Quote:
    """pricing's quote for `trim` ("models/{uuid}/trims/{uuid}") with the named options (the
    quote says what each costs) and promo code; `vehicle_price`, when given, stands for the
    catalogue's price (a used car's own). A code that cannot be used is named in the quote's
    code_problem, not refused; an option the trim does not offer is InvalidArgument."""
    return await peers.call("pricing", pricing_pb2_grpc.PricingServiceStub, "CreateQuote", pricing_pb2.CreateQuoteRequest(
        trim=trim, promo_code=promo_code,
        vehicle_price=money.to_proto(vehicle_price) if vehicle_price is not None else None,
        options=[pricing_pb2.Option(name=name) for name in options]))
