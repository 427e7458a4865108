"""pricing's use cases."""
import uuid
from decimal import Decimal
from types import SimpleNamespace

from autosalon.pricing.v1 import pricing_pb2
from services.kit import money, paging
from services.kit.calls import Peers
from services.kit.db import Database, UnitOfWork, now
from services.kit.errors import (
    AlreadyExists, FailedPrecondition, InvalidArgument, NotFound, ResourceExhausted, Violation,
)
from services.kit.idempotency import NO_KEY, IdempotencyKey, still_there
from services.kit.identity import Identity
from services.kit.protos import timestamp
from services.peers import catalog

from . import domain
from .convert import (
    discount_from_row, discount_to_proto, new_discount_row, promo_code_to_proto, quote_to_proto, scope_to_row,
)


class PricingHandlers:
    def __init__(self, database: Database, peers: Peers):
        self.database = database
        self.catalogue = catalog.Catalogue(peers)

    async def create_discount(self, caller: Identity, discount: domain.Discount,
                              idempotency_key: IdempotencyKey = NO_KEY) -> pricing_pb2.Discount:
        """A retry with the same key returns the discount the first attempt created."""
        discount = domain.validate_discount(discount)
        created = now()
        row = new_discount_row(discount, created, caller.user_name)
        async with self.database.unit_of_work() as uow:
            repository = uow.repository
            if earlier := await uow.repository.claim_key(
                    caller.user_name, "discounts", idempotency_key, row["id"], created):
                return discount_to_proto(still_there(await repository.by_id(earlier), f"discounts/{earlier}"))
            if not await repository.add(row):
                raise AlreadyExists(f"promo code {discount.code} is already in use", domain.PROMO_CODE_TAKEN)
            return discount_to_proto(await repository.by_id(row["id"]))

    async def get_discount(self, discount_id: uuid.UUID) -> pricing_pb2.Discount:
        async with self.database.reading() as uow:
            row = await uow.repository.by_id(discount_id)
        if row is None:
            raise NotFound(f"discounts/{discount_id} does not exist")
        return discount_to_proto(row)

    async def list_discounts(self, requested_size: int, page_token: str) -> tuple[list[pricing_pb2.Discount], str]:
        size = paging.page_size(requested_size)
        after = paging.time_position(paging.decode_token(page_token, {}))
        async with self.database.reading() as uow:
            rows = await uow.repository.page(size, after)
        rows, token = paging.newest_page(rows, size, {})
        return [discount_to_proto(row) for row in rows], token

    async def update_discount(
        self, caller: Identity, discount_id: uuid.UUID, changes: domain.Discount, mask: list[str]
    ) -> pricing_pb2.Discount:
        async with self.database.unit_of_work() as uow:
            repository = uow.repository
            current = await repository.by_id_for_update(discount_id)
            if current is None:
                raise NotFound(f"discounts/{discount_id} does not exist")
            merged = domain.merge_update(discount_from_row(current), changes, mask)
            if merged.usage_limit and merged.usage_limit < current.used_count:
                raise FailedPrecondition(
                    f"the code was used {current.used_count} times already; the limit cannot be lower",
                    domain.USAGE_LIMIT_BELOW_USES)
            await repository.update(discount_id, {
                "title": merged.title, "value": merged.value, "valid_from": merged.valid_from,
                "valid_until": merged.valid_until, "scope": scope_to_row(merged.scope),
                "stackable": merged.stackable, "usage_limit": merged.usage_limit,
                "per_customer_limit": merged.per_customer_limit, "updated_at": now(),
                "updated_by": caller.user_name,
            })
            return discount_to_proto(await repository.by_id(discount_id))

    async def delete_discount(self, discount_id: uuid.UUID) -> None:
        async with self.database.unit_of_work() as uow:
            if not await uow.repository.delete(discount_id):
                raise NotFound(f"discounts/{discount_id} does not exist")

    async def promo_code(self, code: str) -> pricing_pb2.PromoCode:
        async with self.database.reading() as uow:
            row = await uow.repository.by_code(domain.normalize_code(code))
        if row is None:
            raise NotFound(f"there is no promo code {domain.normalize_code(code)}", domain.PROMO_CODE_UNKNOWN)
        return promo_code_to_proto(row)

    async def quote(self, trim_name: str, option_names: list[str], code: str,
                    own_price: Decimal | None = None) -> pricing_pb2.Quote:
        """The price of the trim with the named options (priced as the trim offers them), the
        code's discount and the automatic ones."""
        model, trim = await self.catalogue.get_trim(trim_name)
        options = domain.priced_options(option_names, [
            domain.Option(option.name, money.from_proto(option.price, f"options[{index}].price"))
            for index, option in enumerate(trim.options)])
        model_id, trim_id = catalog.trim_ids(trim_name, "trim")
        vehicle = domain.Vehicle(
            brand=model.brand, model_id=str(model_id), trim_id=str(trim_id),
            base_price=money.from_proto(model.base_price, "base_price"),
            trim_price_delta=money.from_proto(trim.price_delta, "price_delta"), own_price=own_price)
        moment, problem = now(), domain.NO_PROBLEM
        async with self.database.reading() as uow:
            repository = uow.repository
            candidates = [discount_from_row(row) for row in await repository.automatic()]
            if code.strip():
                row = await repository.by_code(domain.normalize_code(code))
                problem = _code_problem(row, vehicle, options, moment)
                if problem is domain.NO_PROBLEM:
                    candidates.append(discount_from_row(row))
        return quote_to_proto(domain.quote(vehicle, options, candidates, moment), problem, options)

    async def order_cancelled(self, uow: UnitOfWork, order_name: str) -> None:
        """A cancelled order gives its promo code uses back, once, and redeems none later."""
        await uow.repository.cancelled_orders.lock(order_name)
        await uow.repository.cancelled_orders.mark(order_name, now())
        for row in await uow.repository.give_back(order_name):
            await uow.emit("promo_code.returned", f"discounts/{row.discount_id}", pricing_pb2.RedemptionEvent(
                redemption=pricing_pb2.Redemption(order_id=row.order_id, customer=row.customer,
                                                  redeem_time=timestamp(row.redeemed_at)),
                discount=f"discounts/{row.discount_id}"))

    async def redeem(self, code: str, order_id: str, customer: str) -> pricing_pb2.Redemption:
        async with self.database.unit_of_work() as uow:
            return await self.redeem_in(uow, code, order_id, customer)

    async def redeem_in(self, uow: UnitOfWork, code: str, order_id: str, customer: str) -> pricing_pb2.Redemption:
        """Takes one use of the code for the order, within the caller's unit of work; refusals
        are raised before anything is written."""
        problems = [(name, "is required") for name, value in
                    (("code", code), ("order_id", order_id), ("customer", customer)) if not value.strip()]
        if problems:
            raise InvalidArgument(problems)
        code = domain.normalize_code(code)
        await uow.repository.cancelled_orders.lock(order_id)
        if await uow.repository.cancelled_orders.is_cancelled(order_id):
            raise FailedPrecondition(f"{order_id} is cancelled; no promo code is redeemed for it", domain.ORDER_CANCELLED)
        repository = uow.repository
        # The code's row lock lines up concurrent redemptions of the same code.
        row = await repository.by_code(code, for_update=True)
        if row is None:
            raise NotFound(f"there is no promo code {code}", domain.PROMO_CODE_UNKNOWN, {"code": code})
        done = await repository.redemption(row.id, order_id)
        if done is not None:
            return _redemption(code, done)
        if out_of_force := domain.out_of_force(discount_from_row(row), now()):
            raise InvalidArgument([Violation("code", f"promo code {code} is not valid now", out_of_force)],
                                  f"promo code {code} is not valid now", out_of_force)
        if row.per_customer_limit and await repository.uses_by(row.id, customer) >= row.per_customer_limit:
            raise ResourceExhausted(f"promo code {code} was already used by this customer",
                                    domain.PROMO_CODE_CUSTOMER_LIMIT, {"code": code})
        if not await repository.take_use(row.id):
            raise ResourceExhausted(f"promo code {code} is used up", domain.PROMO_CODE_USED_UP, {"code": code})
        record = {"discount_id": row.id, "order_id": order_id, "customer": customer,
                  "redeemed_at": now()}
        await repository.record(record)
        redemption = _redemption(code, SimpleNamespace(**record))
        await uow.emit("promo_code.redeemed", f"discounts/{row.id}", pricing_pb2.RedemptionEvent(
            redemption=redemption, discount=f"discounts/{row.id}"))
        return redemption


def _redemption(code: str, row) -> pricing_pb2.Redemption:
    return pricing_pb2.Redemption(code=code, order_id=row.order_id, customer=row.customer,
                                  redeem_time=timestamp(row.redeemed_at))


def _code_problem(row, vehicle: domain.Vehicle, options: list[domain.Option], moment) -> domain.CodeProblem:
    if row is None:
        return domain.CodeProblem("unknown promo code", domain.PROMO_CODE_UNKNOWN)
    discount = discount_from_row(row)
    if out_of_force := domain.out_of_force(discount, moment):
        return domain.CodeProblem("promo code is not valid now", out_of_force)
    if row.usage_limit and row.used_count >= row.usage_limit:
        return domain.CodeProblem("promo code is used up", domain.PROMO_CODE_USED_UP)
    subtotal = vehicle.price + sum(o.price for o in options)
    if not domain.in_scope(discount, vehicle, subtotal):
        return domain.CodeProblem("promo code does not apply to this vehicle", domain.PROMO_CODE_NOT_APPLICABLE)
    return domain.NO_PROBLEM
