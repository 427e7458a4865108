"""sales' use cases. Each reads an order's events, decides, and appends new ones, in one
unit of work that also refreshes the listing projection and fills the outbox."""
import uuid
from decimal import Decimal
from typing import AsyncIterator, Callable

import sqlalchemy as sa

from autosalon.inventory.v1 import inventory_pb2
from autosalon.sales.v1 import sales_pb2
from services.kit import logs, paging
from services.kit.calls import Peers
from services.kit.db import Database, UnitOfWork, now
from services.kit.errors import Conflict, FailedPrecondition, InvalidArgument, NotFound, Violation
from services.kit.idempotency import NO_KEY, IdempotencyKey, same_request
from services.kit.identity import Identity
from services.kit.masks import masked_fields
from services.kit.protos import account_named, check_etag, resource_id
from services.kit.watches import Watches
from services.peers import inventory, pricing

from . import domain
from .convert import STATUS_NAME, event_to_proto, order_to_proto, priced_options, quote_to_json

Decision = Callable[[domain.Order], list[tuple[str, dict]]]
# The order events other services hear about, as autosalon.sales.order.<type>: every change,
# so that a watch of the order (in any instance) hears of it.
PUBLISHED = {"created", "updated", "confirmed", "vehicle_reserved", "promo_code_redeemed", "paid", "cancelled",
             "completed", "deleted", "payment_refunded"}
# An order in these states changes no more: its watch ends.
SETTLED = {sales_pb2.ORDER_STATUS_COMPLETED, sales_pb2.ORDER_STATUS_CANCELLED}
# How often a saga report reads an order again when other writers keep taking its version.
FOLLOW_ATTEMPTS = 5


class SalesHandlers:
    def __init__(self, database: Database, peers: Peers, most_held: int = 2, watches: Watches | None = None):
        self.database = database
        self.peers = peers
        self.watches = watches
        # How many confirmed orders, each holding a car, a customer may leave unpaid at once.
        self.most_held = most_held

    async def _append(
        self, uow: UnitOfWork, order: domain.Order | None, changes: list[tuple[str, dict]],
        actor: str, idempotency_key: IdempotencyKey = NO_KEY,
    ) -> sales_pb2.Order:
        """Appends the changes' events, each with the projection it leaves; the order as it is now."""
        repository = uow.repository
        moment, version = now(), order.version if order else 0
        for event_type, data in changes:
            version += 1
            event = domain.Event(version, event_type, data, actor, moment, logs.trace_id_var.get())
            order = domain.apply(order, event)
            shown = order_to_proto(order)
            announcement = uow.outbox_row(f"order.{event_type}", order.name, sales_pb2.OrderChanged(
                order=shown, actor=actor)) if event_type in PUBLISHED else None
            recorded = await repository.record(order, event, shown.SerializeToString(), idempotency_key, announcement)
            if recorded is None:
                raise Conflict(f"{order.name} was changed meanwhile; read it again and retry")
            if announcement is not None:
                uow.written(announcement, recorded.outbox_seq)
        return shown

    async def _load(self, uow: UnitOfWork, caller: Identity | None, order_id: uuid.UUID) -> domain.Order:
        return _visible(domain.fold(await uow.repository.events(order_id)), caller, order_id)

    async def _change(
        self, caller: Identity, order_id: uuid.UUID, etag: str, decide: Decision, check=None,
    ) -> sales_pb2.Order:
        """Applies `decide` to the order at the version `etag` names (any, when empty), after
        `check(uow, order)` when given."""
        async with self.database.unit_of_work() as uow:
            order = await self._load(uow, caller, order_id)
            check_etag(etag, order.version, order.name, "etag")
            changes = decide(order)
            if check is not None:
                await check(uow, order)
            return await self._append(uow, order, changes, caller.user_name)

    async def get(self, caller: Identity | None, order_id: uuid.UUID) -> sales_pb2.Order:
        async with self.database.reading() as uow:
            current = await uow.repository.current(order_id)
            if current is None or current.snapshot is None:
                return order_to_proto(await self._load(uow, caller, order_id))
        _visible(current, caller, order_id)
        return sales_pb2.Order.FromString(current.snapshot)

    def watch(self, caller: Identity, order_id: uuid.UUID) -> AsyncIterator[sales_pb2.Order]:
        """The order as `get` gives it to `caller`, then again after each change, until it is
        completed or cancelled."""
        return self.watches.watch(f"orders/{order_id}", lambda: self.get(caller, order_id),
                                  lambda order: order.status in SETTLED)

    async def history(self, caller: Identity, order_id: uuid.UUID) -> list[sales_pb2.OrderEvent]:
        async with self.database.reading() as uow:
            events = await uow.repository.events(order_id)
        _visible(domain.fold(events), caller, order_id)
        return [event_to_proto(event) for event in events]

    async def list_orders(
        self, caller: Identity, status: int, customer: str, requested_size: int, page_token: str
    ) -> tuple[list[sales_pb2.Order], str, int]:
        query = {"status": status, "customer": customer}
        # A client sees only their own orders; staff see anyone's, or one customer's.
        buyer = customer if caller.is_staff else caller.user_name
        size = paging.page_size(requested_size)
        after = paging.time_position(paging.decode_token(page_token, query))
        async with self.database.reading() as uow:
            repository = uow.repository
            rows, total = await repository.page(STATUS_NAME.get(status), buyer, size, after)
            rows, token = paging.newest_page(rows, size, query)
            folded = await repository.events_of([row.id for row in rows if row.snapshot is None])
        return [sales_pb2.Order.FromString(row.snapshot) if row.snapshot is not None
                else order_to_proto(domain.fold(folded[row.id])) for row in rows], token, total

    async def _price(self, trim: str, options: list[str], promo_code: str, own_price: str) -> tuple[dict, list[dict]]:
        """pricing's breakdown for the trim with the named options, and the options as priced."""
        quote = await pricing.create_quote(self.peers, trim, promo_code, options, Decimal(own_price) if own_price else None)
        if promo_code and quote.code_problem:
            reason = quote.code_problem_reason
            raise InvalidArgument([Violation("promo_code", quote.code_problem, reason)], quote.code_problem, reason)
        return quote_to_json(quote), priced_options(quote)

    async def create(
        self, caller: Identity, vehicle_id: uuid.UUID, trim_id: str, promo_code: str,
        options: list[str], notes: str, customer: str, idempotency_key: IdempotencyKey,
    ) -> sales_pb2.Order:
        buyer = _buyer(caller, customer)
        notes = domain.check_notes(notes)
        if idempotency_key:
            earlier = await self._by_idempotency_key(buyer, idempotency_key)
            if earlier is not None:
                return earlier
        vehicle = await inventory.get_vehicle(self.peers, vehicle_id)
        if trim_id and trim_id not in (vehicle.trim, vehicle.trim.rpartition("/")[2]):
            raise InvalidArgument({"trim_id": f"vehicle {vehicle.name} is a {vehicle.trim}"})
        if vehicle.status != inventory_pb2.VEHICLE_STATUS_AVAILABLE:
            status = inventory.status_name(vehicle)
            raise FailedPrecondition(f"{vehicle.name} is not available (it is {status})", domain.VEHICLE_NOT_AVAILABLE,
                                     {"vehicle": vehicle.name, "status": status})
        code = promo_code.strip().upper()
        own_price = vehicle.price_override.amount if vehicle.HasField("price_override") else ""
        price, options = await self._price(vehicle.trim, options, code, own_price)
        order_id = str(uuid.uuid4())
        created = [("created", {
            "id": order_id, "customer": buyer, "vehicle": vehicle.name, "trim": vehicle.trim,
            "vehicle_title": f"{vehicle.brand} {vehicle.model_name} {vehicle.year}, VIN {vehicle.vin}",
            "promo_code": code, "options": options, "notes": notes, "price": price,
            "own_price": own_price,
        })]
        try:
            async with self.database.unit_of_work() as uow:
                return await self._append(uow, None, created, caller.user_name, idempotency_key)
        except sa.exc.IntegrityError:
            # The same key raced in from a retry: the first order stands.
            earlier = await self._by_idempotency_key(buyer, idempotency_key)
            if earlier is None:
                raise
            return earlier

    async def _by_idempotency_key(self, buyer: str, key: IdempotencyKey) -> sales_pb2.Order | None:
        async with self.database.reading() as uow:
            first = await uow.repository.by_idempotency_key(buyer, key.text)
        if first is None:
            return None
        same_request(first.idempotency_request, key)
        return await self.get(None, first.id)

    async def update(
        self, caller: Identity, order_id: uuid.UUID, etag: str, changes: dict, mask: list[str]
    ) -> sales_pb2.Order:
        fields = masked_fields(mask, domain.EDITABLE)
        async with self.database.reading() as uow:
            current = await self._load(uow, caller, order_id)
        domain.edit(current, {})
        edited = {name: changes[name] for name in fields}
        if "notes" in edited:
            domain.check_notes(edited["notes"])
        if "promo_code" in edited:
            edited["promo_code"] = edited["promo_code"].strip().upper()
        merged = {name: edited.get(name, getattr(current, name)) for name in domain.EDITABLE}
        names = edited.get("options", [option["name"] for option in current.options])
        # Repriced as the trim offers its options today: the options and the total agree.
        edited["price"], edited["options"] = await self._price(current.trim, names, merged["promo_code"],
                                                               current.own_price)
        # The version read before asking pricing: a change made meanwhile wins, this one is refused.
        return await self._change(caller, order_id, etag or str(current.version),
                                  lambda order: domain.edit(order, edited))

    async def delete(self, caller: Identity, order_id: uuid.UUID, etag: str) -> None:
        await self._change(caller, order_id, etag, domain.delete)

    async def confirm(self, caller: Identity, order_id: uuid.UUID, etag: str) -> sales_pb2.Order:
        async def may_hold_another(uow: UnitOfWork, order: domain.Order) -> None:
            domain.may_hold_another(await uow.repository.confirmed_unpaid(order.customer), self.most_held)

        return await self._change(caller, order_id, etag, domain.confirm, may_hold_another)

    async def cancel(self, caller: Identity, order_id: uuid.UUID, etag: str, reason: str) -> sales_pb2.Order:
        return await self._change(caller, order_id, etag, lambda order: domain.cancel(order, reason))

    async def complete(self, caller: Identity, order_id: uuid.UUID, etag: str) -> sales_pb2.Order:
        return await self._change(caller, order_id, etag, domain.complete)

    async def follow(self, uow: UnitOfWork, order_name: str, actor: str, decide: Decision) -> None:
        """Applies what another service reported about an order, inside the consumer's unit
        of work (so the event is marked consumed together with the change).

        Reports on one order may come at once (the reservation, the promo code, the payment):
        when another writer took the version first, this reads the order again and decides
        anew, in the same transaction (each statement sees what committed before it), rather
        than fail the event. A refused version writes nothing, so the retry starts clean."""
        try:
            order_id = resource_id(order_name, "orders")
        except InvalidArgument:
            return
        repository = uow.repository
        for _ in range(FOLLOW_ATTEMPTS):
            order = domain.fold(await repository.events(order_id))
            if order is None:
                return
            changes = decide(order)
            if not changes:
                return
            try:
                await self._append(uow, order, changes, actor)
                return
            except Conflict:
                continue
        raise Conflict(f"{order.name} kept changing under {actor}'s report; it will be applied again")


def _buyer(caller: Identity, customer: str) -> str:
    customer = account_named(caller, customer)
    if not caller.is_staff:
        if customer and customer != caller.user_name:
            raise InvalidArgument({"customer": "clients order for themselves; leave it empty"})
        return caller.user_name
    return f"users/{resource_id(customer, 'users', 'customer')}"


def _visible(order, caller: Identity | None, order_id: uuid.UUID):
    """The order (an Order, or its projection row), if it exists and `caller` (None: the saga
    itself) may see it."""
    if order is None or order.deleted or (
            caller is not None and not caller.is_staff and order.customer != caller.user_name):
        # A client learns nothing about other clients' orders, not even that they exist.
        raise NotFound(f"orders/{order_id} does not exist")
    return order
