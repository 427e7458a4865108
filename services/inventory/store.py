"""inventory's tables: vehicles, and a read copy of the catalogue fed by catalog's events."""
import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, insert

from services.kit.db import Connection, Prepared, Row, event_tables
from services.kit.idempotency import IdempotencyClaims
from services.kit.paging import newest_first

metadata = sa.MetaData()
MONEY = sa.Numeric(14, 2)

vehicles = sa.Table(
    "vehicles",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("vin", sa.Text, nullable=False, unique=True),
    sa.Column("model_id", sa.Uuid, nullable=False),
    sa.Column("trim_id", sa.Uuid, nullable=False),
    sa.Column("colour", sa.Text, nullable=False),
    sa.Column("mileage_km", sa.Integer, nullable=False),
    sa.Column("condition", sa.Text, nullable=False),
    sa.Column("branch", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("price_override", MONEY),
    sa.Column("order_id", sa.Text),
    sa.Column("reserved_until", sa.DateTime(timezone=True)),
    sa.Column("vin_facts", JSONB, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("created_by", sa.Text, nullable=False),
    sa.Column("updated_by", sa.Text, nullable=False),
)

catalog_models = sa.Table(
    "catalog_models",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("brand", sa.Text, nullable=False),
    sa.Column("model", sa.Text, nullable=False),
    sa.Column("year", sa.Integer, nullable=False),
    sa.Column("base_price", MONEY, nullable=False),
    sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("deleted", sa.Boolean, nullable=False, server_default=sa.false()),
)

catalog_trims = sa.Table(
    "catalog_trims",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("model_id", sa.Uuid, nullable=False),
    sa.Column("display_name", sa.Text, nullable=False),
    sa.Column("price_delta", MONEY, nullable=False),
    sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("deleted", sa.Boolean, nullable=False, server_default=sa.false()),
)

# Vehicles created under an Idempotency-Key.
claims = IdempotencyClaims(metadata)

outbox, consumed_events = event_tables(metadata)

# The price asked: the vehicle's own, or its trim's catalogue price.
PRICE = sa.func.coalesce(
    vehicles.c.price_override, catalog_models.c.base_price + catalog_trims.c.price_delta
)
_VIEW = (
    vehicles.join(catalog_models, catalog_models.c.id == vehicles.c.model_id, isouter=True)
    .join(catalog_trims, catalog_trims.c.id == vehicles.c.trim_id, isouter=True)
)
VEHICLE_COLUMNS = [
    *vehicles.c,
    catalog_models.c.brand, catalog_models.c.model.label("model_name"), catalog_models.c.year,
    catalog_trims.c.display_name.label("trim_name"), PRICE.label("price"),
]

# The statements a reservation runs, built once (building one costs more CPU than sending it).
_BY_ID = sa.select(*VEHICLE_COLUMNS).select_from(_VIEW).where(vehicles.c.id == sa.bindparam("vehicle_id"))
_VEHICLE = Prepared(_BY_ID)
_VEHICLE_FOR_UPDATE = Prepared(_BY_ID.with_for_update(of=vehicles))
# SET follows the values given; the key names must not be columns' names.
_CHANGE = vehicles.update().where(vehicles.c.id == sa.bindparam("key_id")).returning(vehicles.c.id)
_UPDATE = Prepared(_CHANGE)
_UPDATE_IF_STATUS = Prepared(_CHANGE.where(vehicles.c.status == sa.bindparam("key_status")))


class InventoryRepository:
    def __init__(self, connection: Connection):
        self.connection = connection

    async def add(self, row: dict) -> bool:
        result = await self.connection.execute(
            insert(vehicles).values(**row).on_conflict_do_nothing(index_elements=["vin"])
            .returning(vehicles.c.id))
        return result.first() is not None

    async def vehicle(self, vehicle_id: uuid.UUID, for_update: bool = False) -> Row | None:
        query = _VEHICLE_FOR_UPDATE if for_update else _VEHICLE
        return (await self.connection.execute(query, {"vehicle_id": vehicle_id})).first()

    async def update(self, vehicle_id: uuid.UUID, values: dict, only_if_status: str | None = None) -> bool:
        """Changes a vehicle; with `only_if_status`, only while it still has that status —
        the database, not the caller's earlier read, decides who wins a race."""
        if only_if_status is None:
            query, keys = _UPDATE, {"key_id": vehicle_id}
        else:
            query, keys = _UPDATE_IF_STATUS, {"key_id": vehicle_id, "key_status": only_if_status}
        result = await self.connection.execute(query, {**values, **keys})
        return result.first() is not None

    async def page(self, conditions: list, limit: int, after: tuple | None) -> tuple[list[Row], int]:
        query = sa.select(*VEHICLE_COLUMNS).select_from(_VIEW).where(*conditions)
        rows = (await self.connection.execute(
            newest_first(query, vehicles.c.created_at, vehicles.c.id, after, limit))).all()
        total = await self.connection.scalar(
            sa.select(sa.func.count()).select_from(_VIEW).where(*conditions))
        return rows, total

    async def release_expired(self, now: datetime, limit: int = 100) -> list[Row]:
        """Frees reservations past their time, each exactly once even with many instances."""
        expired = (
            sa.select(vehicles.c.id, vehicles.c.order_id)
            .where(vehicles.c.status == "reserved", vehicles.c.reserved_until < now)
            .limit(limit).with_for_update(skip_locked=True).cte("expired")
        )
        result = await self.connection.execute(
            vehicles.update().where(vehicles.c.id == expired.c.id)
            .values(status="available", order_id=None, reserved_until=None, updated_at=now,
                    updated_by="system/reservation-expiry")
            .returning(vehicles.c.id, expired.c.order_id))
        return result.all()

    async def count(self) -> int:
        return await self.connection.scalar(sa.select(sa.func.count()).select_from(vehicles))


class CatalogCopy:
    """inventory's read copy of the catalogue: newest change wins, whatever the arrival order."""

    def __init__(self, connection: Connection):
        self.connection = connection

    async def put_model(self, row: dict) -> None:
        await self._upsert(catalog_models, row)

    async def put_trim(self, row: dict) -> None:
        await self._upsert(catalog_trims, row)

    async def _upsert(self, table: sa.Table, row: dict) -> None:
        statement = insert(table).values(**row)
        await self.connection.execute(statement.on_conflict_do_update(
            index_elements=["id"],
            set_={name: statement.excluded[name] for name in row if name != "id"},
            where=table.c.changed_at <= statement.excluded.changed_at,
        ))

    async def model(self, model_id: uuid.UUID) -> Row | None:
        return (await self.connection.execute(
            sa.select(catalog_models).where(catalog_models.c.id == model_id))).first()
