"""catalog's tables and queries."""
import uuid
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, insert

from services.kit.idempotency import IdempotencyClaims
from services.kit.outbox import event_tables
from services.kit.pool import Connection
from services.kit.statements import Row

from .domain import ModelSearch

metadata = sa.MetaData()
MONEY = sa.Numeric(14, 2)

models = sa.Table(
    "models",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("brand", sa.Text, nullable=False),
    sa.Column("model", sa.Text, nullable=False),
    sa.Column("year", sa.Integer, nullable=False),
    sa.Column("body_type", sa.Text, nullable=False),
    sa.Column("base_price", MONEY, nullable=False),
    sa.Column("specifications", JSONB, nullable=False),
    sa.Column("description", sa.Text, nullable=False, server_default=""),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("created_by", sa.Text, nullable=False),
    sa.Column("updated_by", sa.Text, nullable=False),
    sa.CheckConstraint("base_price > 0", name="models_price_positive"),
)

trims = sa.Table(
    "trims",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("model_id", sa.Uuid, sa.ForeignKey("models.id", ondelete="CASCADE"), nullable=False),
    sa.Column("display_name", sa.Text, nullable=False),
    sa.Column("price_delta", MONEY, nullable=False),
    sa.Column("features", JSONB, nullable=False),
    # [{"name": ..., "price": "60000.00"}]: the extras a buyer may add, each at its price.
    sa.Column("options", JSONB, nullable=False, server_default="[]"),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("created_by", sa.Text, nullable=False),
    sa.Column("updated_by", sa.Text, nullable=False),
    sa.CheckConstraint("price_delta >= 0", name="trims_delta_not_negative"),
)

price_changes = sa.Table(
    "price_changes",
    metadata,
    sa.Column("seq", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("model_id", sa.Uuid, sa.ForeignKey("models.id", ondelete="CASCADE"), nullable=False),
    sa.Column("old_price", MONEY, nullable=False),
    sa.Column("new_price", MONEY, nullable=False),
    sa.Column("changed_by", sa.Text, nullable=False),
    sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
)

# One row: raised by every transaction that changes the catalogue, so that an instance can
# tell whether an answer it kept is still the catalogue's.
catalogue_version = sa.Table(
    "catalogue_version",
    metadata,
    sa.Column("id", sa.SmallInteger, primary_key=True),
    sa.Column("value", sa.BigInteger, nullable=False),
)

# Models and trims created under an Idempotency-Key.
claims = IdempotencyClaims(metadata)

outbox, consumed_events = event_tables(metadata)

_ORDER_COLUMNS = {
    "price": [models.c.base_price],
    "year": [models.c.year],
    "name": [sa.func.lower(models.c.brand), sa.func.lower(models.c.model)],
}


def _spec_condition(condition) -> sa.ColumnElement:
    raw = models.c.specifications[condition.field].astext
    if isinstance(condition.value, str):
        column, value = raw, condition.value
    else:
        column, value = sa.cast(sa.func.nullif(raw, ""), sa.Numeric), condition.value
    return {
        "=": column == value, "!=": column != value, "<": column < value,
        "<=": column <= value, ">": column > value, ">=": column >= value,
    }[condition.operator]


def search_conditions(search: ModelSearch) -> list[sa.ColumnElement]:
    conditions = []
    if search.brand:
        conditions.append(sa.func.lower(models.c.brand) == search.brand)
    if search.model_text:
        escaped = search.model_text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        conditions.append(models.c.model.ilike(f"%{escaped}%", escape="\\"))
    if search.year_min:
        conditions.append(models.c.year >= search.year_min)
    if search.year_max:
        conditions.append(models.c.year <= search.year_max)
    if search.price_min is not None:
        conditions.append(models.c.base_price >= search.price_min)
    if search.price_max is not None:
        conditions.append(models.c.base_price <= search.price_max)
    if search.body_type:
        conditions.append(models.c.body_type == search.body_type)
    conditions += [_spec_condition(condition) for condition in search.conditions]
    return conditions


class CatalogRepository:
    def __init__(self, connection: Connection):
        self.connection = connection
        self.claim_key = claims.on(connection)

    async def version(self) -> int:
        return await self.connection.scalar(sa.select(catalogue_version.c.value))

    async def raise_version(self) -> None:
        """In the changing transaction: concurrent changes queue on the row, briefly."""
        await self.connection.execute(sa.update(catalogue_version).values(value=catalogue_version.c.value + 1))

    async def add_model(self, row: dict) -> bool:
        """False when a model of that brand, name and year exists (case-insensitively)."""
        result = await self.connection.execute(
            insert(models).values(**row).on_conflict_do_nothing().returning(models.c.id)
        )
        return result.first() is not None

    async def model(self, model_id: uuid.UUID, for_update: bool = False) -> Row | None:
        query = sa.select(models).where(models.c.id == model_id)
        if for_update:
            query = query.with_for_update()
        return (await self.connection.execute(query)).first()

    async def update_model(self, model_id: uuid.UUID, values: dict) -> None:
        await self.connection.execute(models.update().where(models.c.id == model_id).values(**values))

    async def delete_model(self, model_id: uuid.UUID) -> bool:
        result = await self.connection.execute(
            models.delete().where(models.c.id == model_id).returning(models.c.id)
        )
        return result.first() is not None

    async def search(
        self, search: ModelSearch, limit: int, after: list | None
    ) -> tuple[list[Row], int]:
        conditions = search_conditions(search)
        order_columns = _ORDER_COLUMNS[search.order] + [models.c.id]
        query = sa.select(models).where(*conditions)
        if after is not None:
            position = sa.tuple_(*order_columns)
            bound = sa.tuple_(*[sa.literal(value) for value in after])
            query = query.where(position < bound if search.descending else position > bound)
        ordering = [column.desc() if search.descending else column.asc() for column in order_columns]
        rows = (await self.connection.execute(query.order_by(*ordering).limit(limit + 1))).all()
        total = await self.connection.scalar(
            sa.select(sa.func.count()).select_from(models).where(*conditions)
        )
        return rows, total

    async def trims_of(self, model_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[Row]]:
        found: dict[uuid.UUID, list[Row]] = {model_id: [] for model_id in model_ids}
        if not model_ids:
            return found
        rows = await self.connection.execute(
            sa.select(trims)
            .where(trims.c.model_id.in_(model_ids))
            .order_by(trims.c.price_delta, trims.c.display_name)
        )
        for row in rows:
            found[row.model_id].append(row)
        return found

    async def trim(self, model_id: uuid.UUID, trim_id: uuid.UUID, for_update: bool = False) -> Row | None:
        query = sa.select(trims).where(trims.c.id == trim_id, trims.c.model_id == model_id)
        if for_update:
            query = query.with_for_update()
        return (await self.connection.execute(query)).first()

    async def count_trims(self, model_id: uuid.UUID) -> int:
        return await self.connection.scalar(
            sa.select(sa.func.count()).select_from(trims).where(trims.c.model_id == model_id))

    async def add_trim(self, row: dict) -> bool:
        result = await self.connection.execute(
            insert(trims).values(**row).on_conflict_do_nothing().returning(trims.c.id)
        )
        return result.first() is not None

    async def update_trim(self, trim_id: uuid.UUID, values: dict) -> bool:
        result = await self.connection.execute(
            trims.update().where(trims.c.id == trim_id).values(**values).returning(trims.c.id)
        )
        return result.first() is not None

    async def delete_trim(self, trim_id: uuid.UUID) -> bool:
        result = await self.connection.execute(
            trims.delete().where(trims.c.id == trim_id).returning(trims.c.id)
        )
        return result.first() is not None

    async def record_price_change(
        self, model_id: uuid.UUID, old: Decimal, new: Decimal, who: str, when
    ) -> None:
        await self.connection.execute(price_changes.insert().values(
            model_id=model_id, old_price=old, new_price=new, changed_by=who, changed_at=when))

    async def price_history(self, model_id: uuid.UUID, limit: int, after_seq: int | None) -> list[Row]:
        query = sa.select(price_changes).where(price_changes.c.model_id == model_id)
        if after_seq is not None:
            query = query.where(price_changes.c.seq < after_seq)
        query = query.order_by(price_changes.c.seq.desc()).limit(limit + 1)
        return (await self.connection.execute(query)).all()

    async def count_models(self) -> int:
        return await self.connection.scalar(sa.select(sa.func.count()).select_from(models))
