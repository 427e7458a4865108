"""insurance's tables and queries: saved quotes, policies, claims, and the log of their
status changes."""
import datetime
import uuid

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, insert

from services.kit.columns import audited, keyed
from services.kit.outbox import event_tables
from services.kit.paging import newest_first
from services.kit.pool import Connection
from services.kit.statements import Row

metadata = sa.MetaData()
MONEY = sa.Numeric(14, 2)

quotes = sa.Table(
    "quotes",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("customer", sa.Text, nullable=False),
    sa.Column("product", sa.Text, nullable=False),
    sa.Column("premium", MONEY, nullable=False),
    sa.Column("tariff_version", sa.Text, nullable=False),
    sa.Column("valid_until", sa.Date, nullable=False),
    # The whole quote as the API shows it (terms, factors), JSON of its protobuf message.
    sa.Column("quote", JSONB, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("created_by", sa.Text, nullable=False),
)

policies = sa.Table(
    "policies",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("quote_id", sa.Uuid, nullable=False),
    sa.Column("customer", sa.Text, nullable=False),
    sa.Column("product", sa.Text, nullable=False),
    sa.Column("premium", MONEY, nullable=False),
    sa.Column("sum_insured", MONEY, nullable=False),
    sa.Column("deductible", MONEY, nullable=False),
    sa.Column("starts_on", sa.Date, nullable=False),
    sa.Column("ends_on", sa.Date, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("policy_number", sa.Text, nullable=False),
    sa.Column("payment", sa.Text, nullable=False),
    sa.Column("purchased_on", sa.Date),
    sa.Column("refund", MONEY),
    sa.Column("cancel_reason", sa.Text, nullable=False),
    sa.Column("approved_claims", MONEY, nullable=False),
    # The day its holder was told that it ends soon (policy.expiring); null until then.
    sa.Column("expiry_notice_on", sa.Date),
    *keyed(),
    *audited(),
)

claims = sa.Table(
    "claims",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("policy_id", sa.Uuid, sa.ForeignKey("policies.id"), nullable=False),
    sa.Column("claim_number", sa.Text, nullable=False),
    sa.Column("incident_date", sa.Date, nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("claimed_amount", MONEY, nullable=False),
    sa.Column("approved_amount", MONEY),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("decision_note", sa.Text, nullable=False),
    *keyed(),
    *audited(),
)

# Every status change of a policy ("policies/{uuid}") or a claim ("policies/{uuid}/claims/{uuid}").
status_log = sa.Table(
    "status_log",
    metadata,
    sa.Column("seq", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("subject", sa.Text, nullable=False),
    sa.Column("from_status", sa.Text, nullable=False),
    sa.Column("to_status", sa.Text, nullable=False),
    sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
)

outbox, consumed_events = event_tables(metadata)


class InsuranceRepository:
    def __init__(self, connection: Connection):
        self.connection = connection

    async def add_quote(self, row: dict) -> None:
        await self.connection.execute(quotes.insert().values(**row))

    async def quote(self, quote_id: uuid.UUID) -> Row | None:
        return (await self.connection.execute(sa.select(quotes).where(quotes.c.id == quote_id))).first()

    async def quote_page(self, product: str | None, customer: str | None, limit: int, after: tuple | None
                         ) -> list[Row]:
        conditions = [column == value for column, value in ((quotes.c.product, product),
                                                            (quotes.c.customer, customer)) if value]
        query = sa.select(quotes).where(*conditions)
        return (await self.connection.execute(
            newest_first(query, quotes.c.created_at, quotes.c.id, after, limit))).all()

    # Policies and claims: their rows moved by status, and their logs.

    async def add(self, table: sa.Table, row: dict, subject: str) -> Row | None:
        """The new policy or claim, its log's first line written; None when its creator already
        made one under the same idempotency key."""
        added = (await self.connection.execute(
            insert(table).values(**row).on_conflict_do_nothing(constraint=f"{table.name}_one_per_idempotency_key")
            .returning(*table.c))).first()
        if added is not None:
            await self.log(subject, "", added.status, added.created_by, "created", added.created_at)
        return added

    async def by_key(self, table: sa.Table, creator: str, key: str) -> Row | None:
        return (await self.connection.execute(sa.select(table).where(
            table.c.created_by == creator, table.c.idempotency_key == key))).first()

    async def by_id(self, table: sa.Table, row_id: uuid.UUID, for_update: bool = False) -> Row | None:
        query = sa.select(table).where(table.c.id == row_id)
        return (await self.connection.execute(query.with_for_update() if for_update else query)).first()

    async def move(self, table: sa.Table, row_id: uuid.UUID, subject: str, current: str, wanted: str, actor: str,
                   reason: str, values: dict, at: datetime.datetime) -> Row | None:
        """Moves the row from `current` to `wanted` with `values`, logged; None when it is no
        longer `current`."""
        moved = (await self.connection.execute(
            table.update().where(table.c.id == row_id, table.c.status == current)
            .values(**values, status=wanted, updated_by=actor, updated_at=at).returning(*table.c))).first()
        if moved is not None:
            await self.log(subject, current, wanted, actor, reason, at)
        return moved

    async def change(self, table: sa.Table, row_id: uuid.UUID, values: dict) -> Row:
        return (await self.connection.execute(
            table.update().where(table.c.id == row_id).values(**values).returning(*table.c))).first()

    async def log(self, subject: str, from_status: str, to_status: str, actor: str, reason: str,
                  at: datetime.datetime) -> None:
        await self.connection.execute(status_log.insert().values(
            subject=subject, from_status=from_status, to_status=to_status, changed_at=at, actor=actor, reason=reason))

    async def log_of(self, subjects: list[str]) -> dict[str, list[Row]]:
        found: dict[str, list[Row]] = {subject: [] for subject in subjects}
        rows = (await self.connection.execute(sa.select(status_log).where(
            status_log.c.subject.in_(subjects)).order_by(status_log.c.seq))).all()
        for row in rows:
            found[row.subject].append(row)
        return found

    async def page(self, table: sa.Table, conditions: list, limit: int, after: tuple | None) -> list[Row]:
        query = sa.select(table).where(*conditions)
        return (await self.connection.execute(newest_first(query, table.c.created_at, table.c.id, after, limit))).all()

    async def due(self, where, limit: int = 50) -> list[Row]:
        """Policies the scheduled jobs owe a step (`where` says which), the oldest first."""
        return (await self.connection.execute(
            sa.select(policies).where(where).order_by(policies.c.updated_at).limit(limit))).all()
