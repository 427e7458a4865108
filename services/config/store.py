"""config's tables and queries: settings and the changes of their values, branches, salespeople."""
import uuid

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, insert

from services.kit.columns import audited
from services.kit.outbox import event_tables
from services.kit.pool import Connection
from services.kit.statements import Row

metadata = sa.MetaData()

settings = sa.Table(
    "settings",
    metadata,
    sa.Column("key", sa.Text, primary_key=True),
    sa.Column("value_type", sa.Text, nullable=False),
    # "" when none is set here.
    sa.Column("value", sa.Text, nullable=False),
    sa.Column("default_value", sa.Text, nullable=False),
    sa.Column("category", sa.Text, nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("minimum", sa.Text, nullable=False),
    sa.Column("maximum", sa.Text, nullable=False),
    sa.Column("choices", JSONB, nullable=False),
    sa.Column("json_schema", sa.Text, nullable=False),
    # The service that declared it; "" for the dealership's own.
    sa.Column("service", sa.Text, nullable=False),
    # Changes of the value; also the etag.
    sa.Column("revision", sa.BigInteger, nullable=False),
    *audited(),
)

setting_changes = sa.Table(
    "setting_changes",
    metadata,
    sa.Column("key", sa.Text, sa.ForeignKey("settings.key", ondelete="CASCADE"), primary_key=True),
    sa.Column("revision", sa.BigInteger, primary_key=True),
    sa.Column("value_before", sa.Text, nullable=False),
    sa.Column("value_after", sa.Text, nullable=False),
    sa.Column("changed_by", sa.Text, nullable=False),
    sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
)

branches = sa.Table(
    "branches",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("display_name", sa.Text, nullable=False),
    sa.Column("address", sa.Text, nullable=False),
    sa.Column("time_zone", sa.Text, nullable=False),
    # [{"weekday": "monday", "opens": "09:00", "closes": "18:00"}, ...]
    sa.Column("hours", JSONB, nullable=False),
    # ["2027-01-01", ...]
    sa.Column("days_off", JSONB, nullable=False),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("version", sa.BigInteger, nullable=False),
    *audited(),
)

salespeople = sa.Table(
    "salespeople",
    metadata,
    # Their user's id.
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("display_name", sa.Text, nullable=False),
    sa.Column("branch_id", sa.Text, sa.ForeignKey("branches.id"), nullable=False),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("version", sa.BigInteger, nullable=False),
    *audited(),
)

outbox, consumed_events = event_tables(metadata)


def declaring(service: str, declared: list[dict], at) -> list:
    """The statements that bring a service's hot settings up to date as it declares them now:
    new ones added, the rest's definitions renewed (values kept), those it no longer has removed."""
    statements = [settings.delete().where(settings.c.service == service,
                                          settings.c.key.not_in([row["key"] for row in declared]))]
    for row in declared:
        definition = {name: row[name] for name in ("value_type", "default_value", "category", "description",
                                                   "minimum", "maximum", "choices")}
        statements.append(
            insert(settings).values(**row, value="", json_schema="", revision=0, created_at=at, updated_at=at,
                                    created_by="", updated_by="")
            .on_conflict_do_update(index_elements=["key"], set_=definition))
    return statements


class ConfigRepository:
    def __init__(self, connection: Connection):
        self.connection = connection

    # Settings.

    async def setting(self, key: str, for_update: bool = False) -> Row | None:
        query = sa.select(settings).where(settings.c.key == key)
        return (await self.connection.execute(query.with_for_update() if for_update else query)).first()

    async def add_setting(self, row: dict) -> Row | None:
        """The new setting; None when its key is taken."""
        return (await self.connection.execute(
            insert(settings).values(**row).on_conflict_do_nothing(index_elements=["key"])
            .returning(*settings.c))).first()

    async def change_setting(self, key: str, values: dict) -> Row:
        return (await self.connection.execute(
            settings.update().where(settings.c.key == key).values(**values).returning(*settings.c))).first()

    async def ever_set(self) -> list[Row]:
        return (await self.connection.execute(sa.select(settings).where(settings.c.revision > 0))).all()

    async def declaring_services(self) -> set[str]:
        return set((await self.connection.execute(
            sa.select(settings.c.service).where(settings.c.service != "").distinct())).scalars())

    async def record_change(self, change: dict) -> None:
        await self.connection.execute(setting_changes.insert().values(**change))

    async def setting_page(self, category: str, service: str, limit: int, after: str | None) -> list[Row]:
        conditions = [column == value for column, value in ((settings.c.category, category),
                                                            (settings.c.service, service)) if value]
        if after is not None:
            conditions.append(settings.c.key > after)
        return (await self.connection.execute(
            sa.select(settings).where(*conditions).order_by(settings.c.key).limit(limit))).all()

    async def change_page(self, key: str, limit: int, before: int | None) -> list[Row]:
        conditions = [setting_changes.c.key == key]
        if before is not None:
            conditions.append(setting_changes.c.revision < before)
        return (await self.connection.execute(
            sa.select(setting_changes).where(*conditions).order_by(setting_changes.c.revision.desc()).limit(limit)
        )).all()

    # Branches.

    async def branch(self, branch_id: str, for_update: bool = False) -> Row | None:
        query = sa.select(branches).where(branches.c.id == branch_id)
        return (await self.connection.execute(query.with_for_update() if for_update else query)).first()

    async def add_branch(self, row: dict) -> Row | None:
        return (await self.connection.execute(
            insert(branches).values(**row).on_conflict_do_nothing(index_elements=["id"]).returning(*branches.c)
        )).first()

    async def change_branch(self, branch_id: str, values: dict) -> Row:
        return (await self.connection.execute(
            branches.update().where(branches.c.id == branch_id)
            .values(**values, version=branches.c.version + 1).returning(*branches.c))).first()

    async def branch_page(self, with_inactive: bool, limit: int, after: str | None) -> list[Row]:
        conditions = [] if with_inactive else [branches.c.active]
        if after is not None:
            conditions.append(branches.c.id > after)
        return (await self.connection.execute(
            sa.select(branches).where(*conditions).order_by(branches.c.id).limit(limit))).all()

    # Salespeople.

    async def salesperson(self, person_id: uuid.UUID, for_update: bool = False) -> Row | None:
        query = sa.select(salespeople).where(salespeople.c.id == person_id)
        return (await self.connection.execute(query.with_for_update() if for_update else query)).first()

    async def add_salesperson(self, row: dict) -> Row | None:
        return (await self.connection.execute(
            insert(salespeople).values(**row).on_conflict_do_nothing(index_elements=["id"])
            .returning(*salespeople.c))).first()

    async def change_salesperson(self, person_id: uuid.UUID, values: dict) -> Row:
        return (await self.connection.execute(
            salespeople.update().where(salespeople.c.id == person_id)
            .values(**values, version=salespeople.c.version + 1).returning(*salespeople.c))).first()

    async def salesperson_page(self, branch_id: str, limit: int, after: uuid.UUID | None) -> list[Row]:
        conditions = [salespeople.c.branch_id == branch_id] if branch_id else []
        if after is not None:
            conditions.append(salespeople.c.id > after)
        return (await self.connection.execute(
            sa.select(salespeople).where(*conditions).order_by(salespeople.c.id).limit(limit))).all()
