"""notification's tables and queries: the customers' contacts (from their accounts) and their
preferences."""
import uuid

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, insert

from services.kit.outbox import event_tables
from services.kit.pool import Connection
from services.kit.statements import Row

metadata = sa.MetaData()

# What auth's user events say of each account: where its messages go.
contacts = sa.Table(
    "contacts",
    metadata,
    sa.Column("user_id", sa.Uuid, primary_key=True),
    sa.Column("email", sa.Text, nullable=False),
    sa.Column("full_name", sa.Text, nullable=False),
    sa.Column("phone", sa.Text, nullable=False),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

preferences = sa.Table(
    "preferences",
    metadata,
    sa.Column("customer", sa.Text, primary_key=True),
    sa.Column("language", sa.Text, nullable=False),
    # {"email": true, "sms": false, "push": false} a kind of message.
    sa.Column("transactional", JSONB, nullable=False),
    sa.Column("reminders", JSONB, nullable=False),
    sa.Column("marketing", JSONB, nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_by", sa.Text, nullable=False),
)

outbox, consumed_events = event_tables(metadata)


class NotificationRepository:
    def __init__(self, connection: Connection):
        self.connection = connection

    async def contact(self, user_id: uuid.UUID) -> Row | None:
        return (await self.connection.execute(sa.select(contacts).where(contacts.c.user_id == user_id))).first()

    async def keep_contact(self, row: dict) -> None:
        """The account as its latest event says (an older event never overwrites a newer one)."""
        statement = insert(contacts).values(**row)
        await self.connection.execute(statement.on_conflict_do_update(
            index_elements=["user_id"], set_={name: statement.excluded[name] for name in row if name != "user_id"},
            where=contacts.c.updated_at <= statement.excluded.updated_at))

    async def preferences(self, customer: str) -> Row | None:
        return (await self.connection.execute(
            sa.select(preferences).where(preferences.c.customer == customer))).first()

    async def save_preferences(self, row: dict) -> Row:
        statement = insert(preferences).values(**row)
        return (await self.connection.execute(statement.on_conflict_do_update(
            index_elements=["customer"], set_={name: statement.excluded[name] for name in row if name != "customer"})
            .returning(*preferences.c))).first()
