"""customer's tables and queries."""
import uuid

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, insert

from services.kit.idempotency import IdempotencyClaims
from services.kit.outbox import event_tables
from services.kit.paging import newest_first
from services.kit.pool import Connection
from services.kit.statements import Prepared, Row

from .domain import SegmentRule

metadata = sa.MetaData()
MONEY = sa.Numeric(14, 2)

customers = sa.Table(
    "customers",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("user_id", sa.Uuid, unique=True),
    sa.Column("full_name", sa.Text, nullable=False),
    sa.Column("email", sa.Text, nullable=False),
    sa.Column("phone", sa.Text, nullable=False),
    sa.Column("address", JSONB, nullable=False),
    sa.Column("preferences", JSONB, nullable=False),
    sa.Column("tags", ARRAY(sa.Text), nullable=False),
    sa.Column("segment", sa.Text, nullable=False),
    sa.Column("purchase_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("total_spent", MONEY, nullable=False, server_default="0"),
    sa.Column("interaction_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("created_by", sa.Text, nullable=False),
    sa.Column("updated_by", sa.Text, nullable=False),
    # The account's update time (auth's) that its name, email and phone were last copied from;
    # null for walk-ins. An older account event, come late, never overwrites a newer one's copy.
    sa.Column("account_updated_at", sa.DateTime(timezone=True)),
)

interactions = sa.Table(
    "interactions",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("customer_id", sa.Uuid, sa.ForeignKey("customers.id"), nullable=False),
    sa.Column("type", sa.Text, nullable=False),
    sa.Column("note", sa.Text, nullable=False),
    sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("logged_by", sa.Text, nullable=False),
)

purchases = sa.Table(
    "purchases",
    metadata,
    sa.Column("order_id", sa.Uuid, primary_key=True),
    sa.Column("customer_id", sa.Uuid, sa.ForeignKey("customers.id"), nullable=False),
    sa.Column("vehicle", sa.Text, nullable=False),
    sa.Column("vehicle_title", sa.Text, nullable=False),
    sa.Column("total", MONEY, nullable=False),
    sa.Column("currency", sa.Text, nullable=False),
    sa.Column("completed_at", sa.DateTime(timezone=True), nullable=False),
)

segment_rules = sa.Table(
    "segment_rules",
    metadata,
    sa.Column("segment", sa.Text, primary_key=True),
    sa.Column("priority", sa.Integer, nullable=False, unique=True),
    sa.Column("min_purchases", sa.Integer, nullable=False),
    sa.Column("min_spend", MONEY, nullable=False),
    sa.Column("min_interactions", sa.Integer, nullable=False),
)

# Walk-in customers and interactions created under an Idempotency-Key.
claims = IdempotencyClaims(metadata)

outbox, consumed_events = event_tables(metadata)

# The statements a profile's reads and changes run, built once (building one costs more CPU
# than sending it).
_ID_IS = customers.c.id == sa.bindparam("customer_id")
_USER_IS = customers.c.user_id == sa.bindparam("user_id")
_BY_ID = Prepared(sa.select(customers).where(_ID_IS))
_BY_USER = Prepared(sa.select(customers).where(_USER_IS))
_BY_ID_FOR_UPDATE = Prepared(sa.select(customers).where(_ID_IS).with_for_update())
_BY_USER_FOR_UPDATE = Prepared(sa.select(customers).where(_USER_IS).with_for_update())
# SET follows the values given; the key's name must not be a column's name.
_UPDATE = Prepared(customers.update().where(customers.c.id == sa.bindparam("key_id")).returning(*customers.c))
# A purchase's columns but the customer's id, which the profile gives.
_PURCHASE = ("order_id", "vehicle", "vehicle_title", "total", "currency", "completed_at")


def _add_purchase_statement() -> Prepared:
    """Locks the buyer's profile and adds the purchase to it, in one round trip: the profile
    (as it was) with `purchase_added`, false when that order is recorded already; no row
    when the buyer has no profile."""
    current = sa.select(customers).where(_USER_IS).with_for_update().cte("current")
    added = insert(purchases).from_select(["customer_id", *_PURCHASE], sa.select(
        current.c.id, *(sa.bindparam(f"purchase_{name}", type_=purchases.c[name].type) for name in _PURCHASE),
    )).on_conflict_do_nothing().returning(purchases.c.order_id).cte("added")
    return Prepared(sa.select(current, sa.exists(added.select()).label("purchase_added")))


_ADD_PURCHASE = _add_purchase_statement()
_RULES = Prepared(sa.select(segment_rules))


class CustomerRepository:
    def __init__(self, connection: Connection):
        self.connection = connection
        self.claim_key = claims.on(connection)

    async def add(self, row: dict) -> bool:
        """False when the account already has a profile."""
        result = await self.connection.execute(
            insert(customers).values(**row).on_conflict_do_nothing().returning(customers.c.id))
        return result.first() is not None

    async def by_id(self, customer_id: uuid.UUID, for_update: bool = False) -> Row | None:
        query = _BY_ID_FOR_UPDATE if for_update else _BY_ID
        return (await self.connection.execute(query, {"customer_id": customer_id})).first()

    async def by_user(self, user_id: uuid.UUID, for_update: bool = False) -> Row | None:
        query = _BY_USER_FOR_UPDATE if for_update else _BY_USER
        return (await self.connection.execute(query, {"user_id": user_id})).first()

    async def update(self, customer_id: uuid.UUID, values: dict) -> Row | None:
        """The profile as changed; None when there is none."""
        return (await self.connection.execute(_UPDATE, {"key_id": customer_id, **values})).first()

    async def page(self, conditions: list, limit: int, after: tuple | None) -> tuple[list[Row], int]:
        query = sa.select(customers).where(*conditions)
        rows = (await self.connection.execute(
            newest_first(query, customers.c.created_at, customers.c.id, after, limit))).all()
        total = await self.connection.scalar(sa.select(sa.func.count()).select_from(customers).where(*conditions))
        return rows, total

    async def interaction(self, interaction_id: uuid.UUID) -> Row | None:
        return (await self.connection.execute(
            sa.select(interactions).where(interactions.c.id == interaction_id))).first()

    async def add_interaction(self, row: dict) -> None:
        await self.connection.execute(interactions.insert().values(**row))

    async def interactions(self, customer_id: uuid.UUID, limit: int, after: tuple | None) -> list[Row]:
        query = sa.select(interactions).where(interactions.c.customer_id == customer_id)
        return (await self.connection.execute(
            newest_first(query, interactions.c.occurred_at, interactions.c.id, after, limit))).all()

    async def add_purchase(self, user_id: uuid.UUID, purchase: dict) -> Row | None:
        """Adds `purchase` to the profile of the account `user_id`, which it locks: the profile
        as it was before, with `purchase_added` (false when that order is recorded already);
        None when the account has no profile."""
        return (await self.connection.execute(_ADD_PURCHASE, {
            "user_id": user_id, **{f"purchase_{name}": purchase[name] for name in _PURCHASE}})).first()

    async def purchases(self, customer_id: uuid.UUID, limit: int, after: tuple | None) -> list[Row]:
        query = sa.select(purchases).where(purchases.c.customer_id == customer_id)
        return (await self.connection.execute(
            newest_first(query, purchases.c.completed_at, purchases.c.order_id, after, limit))).all()

    async def rules(self) -> list[SegmentRule]:
        rows = await self.connection.execute(_RULES)
        return [SegmentRule(**row._asdict()) for row in rows]


def search_conditions(query: str, segment: str, tag: str, user_id: uuid.UUID | None = None) -> list:
    conditions = [] if user_id is None else [customers.c.user_id == user_id]
    if query.strip():
        pattern = "%" + query.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        conditions.append(sa.or_(
            sa.func.lower(customers.c.full_name).like(pattern, escape="\\"),
            sa.func.lower(customers.c.email).like(pattern, escape="\\"),
            customers.c.phone.like(pattern, escape="\\"),
        ))
    if segment.strip():
        conditions.append(customers.c.segment == segment.strip().lower())
    if tag.strip():
        conditions.append(customers.c.tags.any(tag.strip().lower()))
    return conditions
