"""financing's tables and queries: loan applications and the log of their status changes."""
import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, insert

from services.kit.columns import audited, keyed
from services.kit.outbox import event_tables
from services.kit.paging import newest_first
from services.kit.pool import Connection
from services.kit.statements import Row

metadata = sa.MetaData()
MONEY = sa.Numeric(14, 2)

applications = sa.Table(
    "applications",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("customer", sa.Text, nullable=False),
    sa.Column("order_id", sa.Text, nullable=False),
    sa.Column("financing_type", sa.Text, nullable=False),
    sa.Column("vehicle_price", MONEY, nullable=False),
    sa.Column("down_payment", MONEY, nullable=False),
    sa.Column("term_months", sa.Integer, nullable=False),
    sa.Column("schedule_type", sa.Text, nullable=False),
    sa.Column("employment_status", sa.Text, nullable=False),
    sa.Column("monthly_income", MONEY, nullable=False),
    sa.Column("existing_monthly_payments", MONEY, nullable=False),
    # Kept only until the bank's report is in; its last four stay.
    sa.Column("passport_number", sa.Text, nullable=False),
    sa.Column("passport_last_four", sa.Text, nullable=False),
    sa.Column("birth_date", sa.Date),
    sa.Column("annual_rate", sa.Numeric(6, 3), nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("credit_score", sa.Integer),
    sa.Column("debt_to_income", sa.Numeric(8, 2)),
    sa.Column("decision_reasons", ARRAY(sa.Text), nullable=False),
    sa.Column("decided_by", sa.Text, nullable=False),
    sa.Column("decided_at", sa.DateTime(timezone=True)),
    sa.Column("decision_note", sa.Text, nullable=False),
    sa.Column("activation_date", sa.Date),
    sa.Column("version", sa.Integer, nullable=False),
    *keyed(),
    *audited(),
)

status_log = sa.Table(
    "application_status_log",
    metadata,
    sa.Column("seq", sa.BigInteger, sa.Identity(), primary_key=True),
    sa.Column("application_id", sa.Uuid, sa.ForeignKey("applications.id"), nullable=False),
    sa.Column("from_status", sa.Text, nullable=False),
    sa.Column("to_status", sa.Text, nullable=False),
    sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("actor", sa.Text, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
)

outbox, consumed_events = event_tables(metadata)


class FinancingRepository:
    def __init__(self, connection: Connection):
        self.connection = connection

    async def add(self, row: dict) -> Row | None:
        """The new application, with the first line of its log; None when its creator already
        made one under the same idempotency key."""
        added = (await self.connection.execute(
            insert(applications).values(**row).on_conflict_do_nothing().returning(*applications.c))).first()
        if added is not None:
            await self._log(added.id, [("", added.status, "created")], added.created_by, added.created_at)
        return added

    async def by_id(self, application_id: uuid.UUID, for_update: bool = False) -> Row | None:
        query = sa.select(applications).where(applications.c.id == application_id)
        return (await self.connection.execute(query.with_for_update() if for_update else query)).first()

    async def by_key(self, creator: str, key: str) -> Row | None:
        return (await self.connection.execute(sa.select(applications).where(
            applications.c.created_by == creator, applications.c.idempotency_key == key))).first()

    async def page(self, status: str | None, customer: str | None, limit: int, after: tuple | None) -> list[Row]:
        conditions = [column == value for column, value in ((applications.c.status, status),
                                                             (applications.c.customer, customer)) if value]
        query = sa.select(applications).where(*conditions)
        return (await self.connection.execute(
            newest_first(query, applications.c.created_at, applications.c.id, after, limit))).all()

    async def update(self, application_id: uuid.UUID, values: dict, actor: str, at: datetime) -> Row:
        return (await self.connection.execute(
            applications.update().where(applications.c.id == application_id)
            .values(**values, version=applications.c.version + 1, updated_by=actor, updated_at=at)
            .returning(*applications.c))).first()

    async def move(self, application_id: uuid.UUID, current: str, wanted: str, actor: str, reason: str,
                   values: dict, at: datetime) -> Row | None:
        """Moves the application from `current` to `wanted` with `values`, logged; None when it
        is no longer `current` (someone moved it first)."""
        moved = (await self.connection.execute(
            applications.update().where(applications.c.id == application_id, applications.c.status == current)
            .values(**values, status=wanted, version=applications.c.version + 1, updated_by=actor, updated_at=at)
            .returning(*applications.c))).first()
        if moved is not None:
            await self._log(application_id, [(current, wanted, reason)], actor, at)
        return moved

    async def _log(self, application_id: uuid.UUID, lines: list[tuple[str, str, str]], actor: str,
                   at: datetime) -> None:
        await self.connection.execute(status_log.insert(), [
            {"application_id": application_id, "from_status": from_status, "to_status": to_status,
             "changed_at": at, "actor": actor, "reason": reason} for from_status, to_status, reason in lines])

    async def log_of(self, application_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[Row]]:
        found: dict[uuid.UUID, list[Row]] = {application_id: [] for application_id in application_ids}
        rows = (await self.connection.execute(sa.select(status_log).where(
            status_log.c.application_id.in_(application_ids)).order_by(status_log.c.seq))).all()
        for row in rows:
            found[row.application_id].append(row)
        return found

    async def waiting_for_the_bank(self, limit: int = 20) -> list[Row]:
        """Submitted applications, the longest waiting first."""
        return (await self.connection.execute(
            sa.select(applications).where(applications.c.status == "submitted")
            .order_by(applications.c.updated_at).limit(limit))).all()
