"""monitoring's tables and queries: the log records the services shipped."""
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import TSVECTOR, insert

from services.kit.outbox import event_tables
from services.kit.paging import newest_first
from services.kit.pool import Connection
from services.kit.statements import Row

metadata = sa.MetaData()

log_records = sa.Table(
    "log_records",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("service", sa.Text, nullable=False),
    sa.Column("instance", sa.Text, nullable=False),
    sa.Column("level", sa.Text, nullable=False),
    # 1 warning, 2 error, 3 critical: "at least" is a comparison.
    sa.Column("severity", sa.SmallInteger, nullable=False),
    sa.Column("logger", sa.Text, nullable=False),
    sa.Column("message", sa.Text, nullable=False),
    sa.Column("trace_id", sa.Text, nullable=False),
    sa.Column("rpc", sa.Text, nullable=False),
    sa.Column("logged_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("error", sa.Text, nullable=False),
    # A trace step's duration (0 for a log record).
    sa.Column("duration_ms", sa.Float, nullable=False, server_default="0"),
    # The message and the error's words, for the full-text search (the database computes it).
    sa.Column("words", TSVECTOR, sa.Computed("to_tsvector('simple', message || ' ' || error)", persisted=True)),
)

# Each Consul check of the services' instances as last seen, and since when in that state.
check_states = sa.Table(
    "check_states",
    metadata,
    sa.Column("check_id", sa.Text, primary_key=True),
    sa.Column("service", sa.Text, nullable=False),
    sa.Column("instance", sa.Text, nullable=False),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("output", sa.Text, nullable=False),
    sa.Column("since", sa.DateTime(timezone=True), nullable=False),
)

outbox, consumed_events = event_tables(metadata)


class MonitoringRepository:
    def __init__(self, connection: Connection):
        self.connection = connection

    async def keep(self, rows: list[dict]) -> None:
        if rows:
            await self.connection.execute(log_records.insert().values(rows))

    async def page(self, conditions: list, text: str, limit: int, after: tuple | None) -> list[Row]:
        if text:
            conditions = [*conditions, log_records.c.words.op("@@")(sa.func.plainto_tsquery("simple", text))]
        return (await self.connection.execute(newest_first(
            sa.select(log_records).where(*conditions), log_records.c.logged_at, log_records.c.id, after,
            limit))).all()

    async def trace(self, trace_id: str, limit: int = 1000) -> list[Row]:
        return (await self.connection.execute(
            sa.select(log_records).where(log_records.c.trace_id == trace_id)
            .order_by(log_records.c.logged_at, log_records.c.id).limit(limit))).all()

    async def see_checks(self, service: str, rows: list[dict]) -> None:
        """The service's checks as Consul has them now: a changed status starts its `since`
        anew; a check Consul no longer has (its instance gone) is forgotten."""
        seen = [row["check_id"] for row in rows]
        await self.connection.execute(check_states.delete().where(
            check_states.c.service == service, check_states.c.check_id.not_in(seen) if seen else sa.true()))
        for row in rows:
            statement = insert(check_states).values(**row)
            await self.connection.execute(statement.on_conflict_do_update(index_elements=["check_id"], set_={
                "instance": statement.excluded.instance, "name": statement.excluded.name,
                "output": statement.excluded.output, "status": statement.excluded.status,
                "since": sa.case((check_states.c.status == statement.excluded.status, check_states.c.since),
                                 else_=statement.excluded.since)}))

    async def all_checks(self) -> list[Row]:
        return (await self.connection.execute(sa.select(check_states).order_by(
            check_states.c.service, check_states.c.instance, check_states.c.name))).all()
