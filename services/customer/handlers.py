"""customer's use cases, each one unit of work."""
import dataclasses
import logging
import uuid
from types import SimpleNamespace
from datetime import datetime
from decimal import Decimal

from autosalon.customer.v1 import customer_pb2
from services.kit import paging
from services.kit.db import Database, UnitOfWork, now
from services.kit.errors import NotFound
from services.kit.idempotency import NO_KEY, IdempotencyKey
from services.kit.identity import Identity
from services.kit.statements import Row

from . import domain
from .convert import customer_to_proto, interaction_to_proto, purchase_to_proto
from .store import CustomerRepository, search_conditions

log = logging.getLogger(__name__)


async def _segment(repository: CustomerRepository, purchases: int, spent: Decimal, interactions: int) -> str:
    return domain.segment_for(domain.History(purchases, spent, interactions), await repository.rules())


class CustomerHandlers:
    def __init__(self, database: Database):
        self.database = database

    async def _create(self, uow: UnitOfWork, who: str, user_id: uuid.UUID | None, profile: domain.Profile,
                      new_id: uuid.UUID | None = None, account_updated_at: datetime | None = None
                      ) -> customer_pb2.Customer | None:
        repository = uow.repository
        created = now()
        row = {
            "id": new_id or uuid.uuid4(), "user_id": user_id, **dataclasses.asdict(profile),
            "account_updated_at": account_updated_at,
            "segment": await _segment(repository, 0, Decimal("0"), 0),
            "created_at": created, "updated_at": created, "created_by": who, "updated_by": who,
        }
        if not await repository.add(row):
            return None
        customer = customer_to_proto(await repository.by_id(row["id"]))
        await uow.emit("customer.created", customer.name, customer_pb2.CustomerEvent(customer=customer))
        return customer

    async def create_walk_in(self, caller: Identity, profile: domain.Profile,
                             idempotency_key: IdempotencyKey = NO_KEY) -> customer_pb2.Customer:
        """A retry with the same key returns the customer the first attempt created."""
        profile = domain.validate_profile(profile)
        new_id = uuid.uuid4()
        async with self.database.unit_of_work() as uow:
            if earlier := await uow.repository.claim_key(
                    caller.user_name, "customers", idempotency_key, new_id, now()):
                return customer_to_proto(await uow.repository.by_id(earlier))
            return await self._create(uow, caller.user_name, None, profile, new_id)

    async def create_for_account(self, uow: UnitOfWork, account: domain.Account) -> None:
        """From autosalon.auth.user.registered; a second delivery finds the profile and stops."""
        profile = domain.Profile(full_name=account.full_name, email=account.email, phone=account.phone, address={},
                                 preferences={"channels": ["email"]}, tags=[])
        await self._create(uow, f"users/{account.user_id}", account.user_id, profile,
                           account_updated_at=account.updated_at)

    async def copy_account(self, uow: UnitOfWork, account: domain.Account) -> None:
        """From auth's changes of an account: its profile's name, email and phone as the account
        now has them, unless a newer change of the account was copied already (events may come
        late or again). Nothing for an account without a profile (staff, say)."""
        repository = uow.repository
        current = await repository.by_user(account.user_id, for_update=True)
        if current is None or (current.account_updated_at is not None
                               and current.account_updated_at > account.updated_at):
            return
        copied = {name: getattr(account, name) for name in domain.ACCOUNT_FIELDS}
        changed = any(getattr(current, name) != value for name, value in copied.items())
        # Stamped even when nothing differs, so that an older change come late is known as older.
        values = {"account_updated_at": account.updated_at}
        if changed:
            values |= {**copied, "updated_at": now(), "updated_by": f"users/{account.user_id}"}
        row = await repository.update(current.id, values)
        if changed:
            customer = customer_to_proto(row)
            await uow.emit("customer.updated", customer.name, customer_pb2.CustomerEvent(customer=customer))

    async def get(self, caller: Identity, customer_id: uuid.UUID | None) -> customer_pb2.Customer:
        """The customer named, or with no id the caller's own profile ("customers/me")."""
        async with self.database.reading() as uow:
            row = await _visible_profile(uow.repository, caller, customer_id)
        return customer_to_proto(row)

    async def mine(self, caller: Identity) -> customer_pb2.Customer:
        async with self.database.reading() as uow:
            row = await _visible_profile(uow.repository, caller, None)
        return customer_to_proto(row)

    async def search(self, query: str, segment: str, tag: str, user_id: uuid.UUID | None, requested_size: int,
                     page_token: str) -> tuple[list[customer_pb2.Customer], str, int]:
        """Customers matching every filter given; with `user_id`, the one profile of that account."""
        size = paging.page_size(requested_size)
        key = {"query": query, "segment": segment, "tag": tag, "user": str(user_id or "")}
        after = paging.time_position(paging.decode_token(page_token, key))
        async with self.database.reading() as uow:
            rows, total = await uow.repository.page(
                search_conditions(query, segment, tag, user_id), size, after)
        rows, next_token = paging.newest_page(rows, size, key)
        return [customer_to_proto(row) for row in rows], next_token, total

    async def update(self, caller: Identity, customer_id: uuid.UUID | None, changes: domain.Profile,
                     mask: list[str]) -> customer_pb2.Customer:
        """The customer named (no id: the caller's own) with the masked fields replaced; a
        customer with an account keeps the account's name, email and phone."""
        fields = domain.check_update(mask, caller.is_staff)
        async with self.database.unit_of_work() as uow:
            repository = uow.repository
            current = await _visible_profile(repository, caller, customer_id, for_update=True)
            domain.check_account_fields_kept(f"users/{current.user_id}" if current.user_id else "",
                                             current, changes, fields)
            merged = domain.validate_profile(domain.Profile(**{
                name: getattr(changes if name in fields else current, name)
                for name in domain.EDITABLE}))
            customer = customer_to_proto(await repository.update(current.id, {
                **dataclasses.asdict(merged), "updated_at": now(), "updated_by": caller.user_name}))
            await uow.emit("customer.updated", customer.name, customer_pb2.CustomerEvent(customer=customer))
        return customer

    async def add_interaction(self, caller: Identity, customer_id: uuid.UUID, kind: str | None,
                              note: str, occurred_at: datetime | None,
                              idempotency_key: IdempotencyKey = NO_KEY) -> customer_pb2.Interaction:
        """A retry with the same key returns the interaction the first attempt logged."""
        moment = occurred_at or now()
        note = domain.check_interaction(kind, note, moment, now())
        new_id = uuid.uuid4()
        async with self.database.unit_of_work() as uow:
            repository = uow.repository
            current = await repository.by_id(customer_id, for_update=True)
            if current is None:
                raise NotFound(f"customers/{customer_id} does not exist")
            if earlier := await uow.repository.claim_key(
                    caller.user_name, "interactions", idempotency_key, new_id, now()):
                return interaction_to_proto(await repository.interaction(earlier))
            row = {"id": new_id, "customer_id": customer_id, "type": kind, "note": note,
                   "occurred_at": moment, "logged_by": caller.user_name}
            await repository.add_interaction(row)
            count = current.interaction_count + 1
            await repository.update(customer_id, {
                "interaction_count": count,
                "segment": await _segment(repository, current.purchase_count, current.total_spent, count),
            })
        return interaction_to_proto(SimpleNamespace(**row))

    async def record_purchase(self, uow: UnitOfWork, user_id: uuid.UUID, purchase: dict) -> None:
        """From autosalon.sales.order.completed: the purchase in the history, one more in the
        count, and the segment it earns; once per order however often it is told. A buyer
        without a profile (an account made before the CRM) gets nothing recorded."""
        repository = uow.repository
        current = await repository.add_purchase(user_id, purchase)
        if current is None:
            log.warning("orders/%s was completed for users/%s, who has no customer profile",
                        purchase["order_id"], user_id)
            return
        if not current.purchase_added:
            return
        purchases, total = current.purchase_count + 1, current.total_spent + purchase["total"]
        customer = customer_to_proto(await repository.update(current.id, {
            "purchase_count": purchases, "total_spent": total, "updated_at": now(),
            "segment": await _segment(repository, purchases, total, current.interaction_count),
        }))
        await uow.emit("customer.updated", customer.name, customer_pb2.CustomerEvent(customer=customer))

    async def purchases(self, caller: Identity, customer_id: uuid.UUID | None, requested_size: int,
                        page_token: str) -> tuple[list[customer_pb2.Purchase], str]:
        size = paging.page_size(requested_size)
        async with self.database.reading() as uow:
            repository = uow.repository
            row = await _visible_profile(repository, caller, customer_id)
            key = {"customer": str(row.id)}
            after = paging.time_position(paging.decode_token(page_token, key))
            rows = await repository.purchases(row.id, size, after)
        rows, next_token = paging.newest_page(rows, size, key, "completed_at", "order_id")
        return [purchase_to_proto(purchase) for purchase in rows], next_token

    async def interactions(self, customer_id: uuid.UUID, requested_size: int,
                           page_token: str) -> tuple[list[customer_pb2.Interaction], str]:
        size = paging.page_size(requested_size)
        key = {"customer": str(customer_id)}
        after = paging.time_position(paging.decode_token(page_token, key))
        async with self.database.reading() as uow:
            repository = uow.repository
            if await repository.by_id(customer_id) is None:
                raise NotFound(f"customers/{customer_id} does not exist")
            rows = await repository.interactions(customer_id, size, after)
        rows, next_token = paging.newest_page(rows, size, key, "occurred_at")
        return [interaction_to_proto(row) for row in rows], next_token


async def _visible_profile(repository: CustomerRepository, caller: Identity,
                           customer_id: uuid.UUID | None, for_update: bool = False) -> Row:
    """The caller's own profile (no id), or the one named if the caller may see it."""
    if customer_id is None:
        row = await repository.by_user(uuid.UUID(caller.user_id), for_update=for_update)
        if row is None:
            raise NotFound("you have no customer profile yet")
        return row
    row = await repository.by_id(customer_id, for_update=for_update)
    if row is None or (not caller.is_staff and str(row.user_id) != caller.user_id):
        # A client learns nothing about other customers, not even that they exist.
        raise NotFound(f"customers/{customer_id} does not exist")
    return row
