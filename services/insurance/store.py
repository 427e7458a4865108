"""insurance's tables and queries: saved quotes."""
import uuid

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

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
