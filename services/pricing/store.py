"""pricing's tables and queries."""
import uuid

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, insert

from services.kit.idempotency import IdempotencyClaims
from services.kit.outbox import event_tables
from services.kit.paging import newest_first
from services.kit.pool import Connection
from services.kit.statements import Prepared, Row
from services.peers.sales import CancelledOrders

metadata = sa.MetaData()
MONEY = sa.Numeric(14, 2)

discounts = sa.Table(
    "discounts",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("value", MONEY, nullable=False),
    sa.Column("valid_from", sa.DateTime(timezone=True)),
    sa.Column("valid_until", sa.DateTime(timezone=True)),
    sa.Column("scope", JSONB, nullable=False),
    sa.Column("stackable", sa.Boolean, nullable=False),
    sa.Column("automatic", sa.Boolean, nullable=False),
    sa.Column("code", sa.Text),
    sa.Column("usage_limit", sa.Integer, nullable=False),
    sa.Column("per_customer_limit", sa.Integer, nullable=False),
    sa.Column("used_count", sa.Integer, nullable=False, server_default="0"),
    sa.Column("deleted", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("created_by", sa.Text, nullable=False),
    sa.Column("updated_by", sa.Text, nullable=False),
)

redemptions = sa.Table(
    "redemptions",
    metadata,
    sa.Column("discount_id", sa.Uuid, sa.ForeignKey("discounts.id"), primary_key=True),
    sa.Column("order_id", sa.Text, primary_key=True),
    sa.Column("customer", sa.Text, nullable=False),
    sa.Column("redeemed_at", sa.DateTime(timezone=True), nullable=False),
)

# Orders sales has cancelled, as heard from its events: no promo code is redeemed for them.
cancelled_orders = CancelledOrders(metadata)

# Discounts created under an Idempotency-Key.
claims = IdempotencyClaims(metadata)

outbox, consumed_events = event_tables(metadata)

# The statements of every quote, built once (building one costs more CPU than sending it).
_BY_CODE = sa.select(discounts).where(discounts.c.code == sa.bindparam("code"), ~discounts.c.deleted)
_CODE = Prepared(_BY_CODE)
_CODE_FOR_UPDATE = Prepared(_BY_CODE.with_for_update())
_AUTOMATIC = Prepared(sa.select(discounts).where(discounts.c.automatic, ~discounts.c.deleted))


class PricingRepository:
    def __init__(self, connection: Connection):
        self.connection = connection
        self.cancelled_orders = cancelled_orders.on(connection)
        self.claim_key = claims.on(connection)

    async def add(self, row: dict) -> bool:
        """False when the promo code is taken."""
        result = await self.connection.execute(
            insert(discounts).values(**row).on_conflict_do_nothing().returning(discounts.c.id))
        return result.first() is not None

    async def by_id(self, discount_id: uuid.UUID) -> Row | None:
        return (await self.connection.execute(sa.select(discounts).where(
            discounts.c.id == discount_id, ~discounts.c.deleted))).first()

    async def by_code(self, code: str, for_update: bool = False) -> Row | None:
        query = _CODE_FOR_UPDATE if for_update else _CODE
        return (await self.connection.execute(query, {"code": code})).first()

    async def automatic(self) -> list[Row]:
        return list(await self.connection.execute(_AUTOMATIC))

    async def page(self, limit: int, after: tuple | None) -> list[Row]:
        query = sa.select(discounts).where(~discounts.c.deleted)
        return list(await self.connection.execute(
            newest_first(query, discounts.c.created_at, discounts.c.id, after, limit)))

    async def update(self, discount_id: uuid.UUID, values: dict) -> None:
        await self.connection.execute(discounts.update().where(discounts.c.id == discount_id).values(**values))

    async def by_id_for_update(self, discount_id: uuid.UUID) -> Row | None:
        return (await self.connection.execute(sa.select(discounts).where(
            discounts.c.id == discount_id, ~discounts.c.deleted).with_for_update())).first()

    async def delete(self, discount_id: uuid.UUID) -> bool:
        result = await self.connection.execute(
            discounts.update().where(discounts.c.id == discount_id, ~discounts.c.deleted)
            .values(deleted=True, code=None).returning(discounts.c.id))
        return result.first() is not None

    async def redemption(self, discount_id: uuid.UUID, order_id: str) -> Row | None:
        return (await self.connection.execute(sa.select(redemptions).where(
            redemptions.c.discount_id == discount_id, redemptions.c.order_id == order_id))).first()

    async def uses_by(self, discount_id: uuid.UUID, customer: str) -> int:
        return await self.connection.scalar(sa.select(sa.func.count()).select_from(redemptions).where(
            redemptions.c.discount_id == discount_id, redemptions.c.customer == customer))

    async def take_use(self, discount_id: uuid.UUID) -> bool:
        """One more use, only while under the limit: the database decides, not an earlier read."""
        result = await self.connection.execute(
            discounts.update()
            .where(discounts.c.id == discount_id,
                   sa.or_(discounts.c.usage_limit == 0, discounts.c.used_count < discounts.c.usage_limit))
            .values(used_count=discounts.c.used_count + 1).returning(discounts.c.id))
        return result.first() is not None

    async def record(self, row: dict) -> None:
        await self.connection.execute(redemptions.insert().values(**row))

    async def give_back(self, order_id: str) -> list[Row]:
        """Drops the order's redemptions and returns their uses to the codes, once: a second
        call finds no redemption left."""
        dropped = list(await self.connection.execute(
            redemptions.delete().where(redemptions.c.order_id == order_id).returning(redemptions)))
        for row in dropped:
            await self.connection.execute(
                discounts.update().where(discounts.c.id == row.discount_id, discounts.c.used_count > 0)
                .values(used_count=discounts.c.used_count - 1))
        return dropped
