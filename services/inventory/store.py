"""inventory's tables: vehicles, and a read copy of the catalogue fed by catalog's events."""
import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, insert

from services.kit.idempotency import IdempotencyClaims
from services.kit.outbox import event_tables
from services.kit.paging import newest_first
from services.kit.pool import Connection
from services.kit.statements import Prepared, Row

from .domain import VehicleFilter

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

def _asking_price(source) -> sa.ColumnElement:
    """The price asked: the vehicle's own, or its trim's catalogue price."""
    return sa.func.coalesce(source.c.price_override, catalog_models.c.base_price + catalog_trims.c.price_delta)


def _with_catalogue(source) -> sa.Join:
    return (source.join(catalog_models, catalog_models.c.id == source.c.model_id, isouter=True)
            .join(catalog_trims, catalog_trims.c.id == source.c.trim_id, isouter=True))


def _viewed(source) -> sa.Select:
    """Vehicles of `source` (the table, or the rows a statement changed) as the API shows them:
    with their catalogue names and the price asked."""
    return sa.select(
        *source.c, catalog_models.c.brand, catalog_models.c.model.label("model_name"), catalog_models.c.year,
        catalog_trims.c.display_name.label("trim_name"), _asking_price(source).label("price"),
    ).select_from(_with_catalogue(source))


PRICE = _asking_price(vehicles)
# A change for an order (see domain.RESERVE_FROM) sets these, all of them.
TRANSITION_COLUMNS = ("status", "order_id", "reserved_until", "updated_at", "updated_by")


def _transition_statement(held: bool) -> Prepared:
    """Changes a vehicle only while it has `key_status` (and, `held`, is held by `key_holder`),
    returning it as the API shows it, in one round trip; no row when it did not apply."""
    conditions = [vehicles.c.id == sa.bindparam("key_id"), vehicles.c.status == sa.bindparam("key_status")]
    if held:
        conditions.append(vehicles.c.order_id == sa.bindparam("key_holder"))
    changed = (vehicles.update().where(*conditions)
               .values(**{name: sa.bindparam(f"new_{name}") for name in TRANSITION_COLUMNS})
               .returning(*vehicles.c).cte("changed"))
    return Prepared(_viewed(changed))


# The statements a reservation runs, built once (building one costs more CPU than sending it).
_BY_ID = _viewed(vehicles).where(vehicles.c.id == sa.bindparam("vehicle_id"))
_VEHICLE = Prepared(_BY_ID)
_VEHICLE_FOR_UPDATE = Prepared(_BY_ID.with_for_update(of=vehicles))
_TRANSITION = {held: _transition_statement(held) for held in (False, True)}
# SET follows the values given; the key's name must not be a column's name.
_UPDATE = Prepared(vehicles.update().where(vehicles.c.id == sa.bindparam("key_id")))


def search_conditions(search: VehicleFilter) -> list[sa.ColumnElement]:
    """The WHERE clauses of a stock search."""
    found = []
    if search.model_id:
        found.append(vehicles.c.model_id == search.model_id)
    if search.brand:
        found.append(sa.func.lower(catalog_models.c.brand) == search.brand.strip().lower())
    if search.status:
        found.append(vehicles.c.status == search.status)
    if search.branch:
        found.append(vehicles.c.branch == search.branch)
    if search.condition:
        found.append(vehicles.c.condition == search.condition)
    if search.price_min is not None:
        found.append(PRICE >= search.price_min)
    if search.price_max is not None:
        found.append(PRICE <= search.price_max)
    if search.mileage_max:
        found.append(vehicles.c.mileage_km <= search.mileage_max)
    return found


class InventoryRepository:
    def __init__(self, connection: Connection):
        self.connection = connection
        self.claim_key = claims.on(connection)
        self.catalogue = CatalogCopy(connection)

    async def add(self, row: dict) -> bool:
        result = await self.connection.execute(
            insert(vehicles).values(**row).on_conflict_do_nothing(index_elements=["vin"])
            .returning(vehicles.c.id))
        return result.first() is not None

    async def vehicle(self, vehicle_id: uuid.UUID, for_update: bool = False) -> Row | None:
        query = _VEHICLE_FOR_UPDATE if for_update else _VEHICLE
        return (await self.connection.execute(query, {"vehicle_id": vehicle_id})).first()

    async def transition(self, vehicle_id: uuid.UUID, start: tuple[str, bool], order_id: str,
                         values: dict) -> Row | None:
        """The vehicle with `values` (TRANSITION_COLUMNS) written, if it was in the state
        `start` names for the order (see domain.RESERVE_FROM); None, with nothing written, if not."""
        status, held = start
        keys = {"key_id": vehicle_id, "key_status": status, **({"key_holder": order_id} if held else {})}
        return (await self.connection.execute(_TRANSITION[held], {
            **keys, **{f"new_{name}": values[name] for name in TRANSITION_COLUMNS}})).first()

    async def update(self, vehicle_id: uuid.UUID, values: dict) -> None:
        await self.connection.execute(_UPDATE, {**values, "key_id": vehicle_id})

    async def page(self, search: VehicleFilter, limit: int, after: tuple | None) -> tuple[list[Row], int]:
        conditions = search_conditions(search)
        query = _viewed(vehicles).where(*conditions)
        rows = (await self.connection.execute(
            newest_first(query, vehicles.c.created_at, vehicles.c.id, after, limit))).all()
        total = await self.connection.scalar(
            sa.select(sa.func.count()).select_from(_with_catalogue(vehicles)).where(*conditions))
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

    async def mark_model_deleted(self, model_id: uuid.UUID) -> None:
        await self.connection.execute(catalog_models.update().where(catalog_models.c.id == model_id).values(deleted=True))

    async def mark_trim_deleted(self, trim_id: uuid.UUID) -> None:
        await self.connection.execute(catalog_trims.update().where(catalog_trims.c.id == trim_id).values(deleted=True))

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
