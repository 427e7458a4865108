"""notification's tables and queries: the customers' contacts (from their accounts and CRM), their
preferences, and every notification with its attempts."""
import datetime
import uuid

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, insert

from services.kit.outbox import event_tables
from services.kit.paging import newest_first
from services.kit.pool import Connection
from services.kit.statements import Row

metadata = sa.MetaData()

# Where each account's messages go: from auth's user events and CRM's customer events.
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

notifications = sa.Table(
    "notifications",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("event_id", sa.Uuid, nullable=False),
    sa.Column("customer", sa.Text, nullable=False),
    sa.Column("channel", sa.Text, nullable=False),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("recipient", sa.Text, nullable=False),
    sa.Column("language", sa.Text, nullable=False),
    # The message as written when the event came: an email's subject (a push's title), text and
    # HTML; an SMS's (a push's) text.
    sa.Column("subject", sa.Text, nullable=False),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("html", sa.Text, nullable=False),
    sa.Column("short_text", sa.Text, nullable=False),
    # pending -> sending -> sent | pending (a retry) | failed
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("last_error", sa.Text, nullable=False),
    sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("provider_reference", sa.Text, nullable=False),
    sa.Column("sent_at", sa.DateTime(timezone=True)),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
)

outbox, consumed_events = event_tables(metadata)


class NotificationRepository:
    def __init__(self, connection: Connection):
        self.connection = connection

    async def contact(self, user_id: uuid.UUID) -> Row | None:
        return (await self.connection.execute(sa.select(contacts).where(contacts.c.user_id == user_id))).first()

    async def keep_contact(self, row: dict) -> None:
        """Where an account's messages go, as the latest of auth's and CRM's events says (an
        older event never overwrites a newer one's address); `active`, which only auth's events
        carry, as auth's latest says (a new contact known from CRM first is active)."""
        statement = insert(contacts).values(**{"active": True, **row})
        newer = contacts.c.updated_at <= statement.excluded.updated_at
        changed = {name: sa.case((newer, statement.excluded[name]), else_=contacts.c[name])
                   for name in ("email", "full_name", "phone")}
        changed["updated_at"] = sa.func.greatest(contacts.c.updated_at, statement.excluded.updated_at)
        if "active" in row:
            changed["active"] = statement.excluded.active
        await self.connection.execute(statement.on_conflict_do_update(index_elements=["user_id"], set_=changed))

    async def preferences(self, customer: str) -> Row | None:
        return (await self.connection.execute(
            sa.select(preferences).where(preferences.c.customer == customer))).first()

    async def save_preferences(self, row: dict) -> Row:
        statement = insert(preferences).values(**row)
        return (await self.connection.execute(statement.on_conflict_do_update(
            index_elements=["customer"], set_={name: statement.excluded[name] for name in row if name != "customer"})
            .returning(*preferences.c))).first()

    # Notifications.

    async def add_notification(self, row: dict) -> Row | None:
        """The new notification; None when its event already made one on that channel."""
        return (await self.connection.execute(
            insert(notifications).values(**row).on_conflict_do_nothing(constraint="notifications_once_a_channel")
            .returning(*notifications.c))).first()

    async def due(self, at: datetime.datetime, limit: int) -> list[uuid.UUID]:
        """Pending notifications whose time has come, in the order they were written."""
        return list((await self.connection.execute(
            sa.select(notifications.c.id).where(notifications.c.status == "pending",
                                                notifications.c.next_attempt_at <= at)
            .order_by(notifications.c.next_attempt_at, notifications.c.created_at).limit(limit))).scalars())

    async def take(self, notification_id: uuid.UUID, at: datetime.datetime) -> Row | None:
        """The notification marked sending (one more attempt), if it is still pending: of two
        instances that want it, one gets it."""
        return (await self.connection.execute(
            notifications.update().where(notifications.c.id == notification_id, notifications.c.status == "pending")
            .values(status="sending", attempts=notifications.c.attempts + 1, updated_at=at)
            .returning(*notifications.c))).first()

    async def finish(self, notification_id: uuid.UUID, values: dict) -> Row:
        return (await self.connection.execute(
            notifications.update().where(notifications.c.id == notification_id, notifications.c.status == "sending")
            .values(**values).returning(*notifications.c))).first()

    async def interrupted(self, before: datetime.datetime) -> list[Row]:
        """Notifications left sending since before `before`: their instance stopped mid-send."""
        return (await self.connection.execute(
            sa.select(notifications).where(notifications.c.status == "sending", notifications.c.updated_at < before)
            .with_for_update(skip_locked=True))).all()

    async def notification(self, notification_id: uuid.UUID) -> Row | None:
        return (await self.connection.execute(
            sa.select(notifications).where(notifications.c.id == notification_id))).first()

    async def notification_page(self, conditions: list, limit: int, after: tuple | None) -> list[Row]:
        return (await self.connection.execute(newest_first(
            sa.select(notifications).where(*conditions), notifications.c.created_at, notifications.c.id, after,
            limit))).all()
