"""auth's tables and the queries over them."""
import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from services.kit.outbox import event_tables
from services.kit.paging import newest_first
from services.kit.pool import Connection
from services.kit.statements import Prepared, Row

metadata = sa.MetaData()

users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("email", sa.Text, nullable=False),
    # Uniqueness regardless of case is the database's job, not only the code's.
    sa.Column("email_lower", sa.Text, nullable=False, unique=True),
    sa.Column("full_name", sa.Text, nullable=False),
    sa.Column("phone", sa.Text, nullable=False, server_default=""),
    sa.Column("role", sa.Text, nullable=False),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("password_hash", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    # When the owner followed a verification link to `email`; null while unverified.
    sa.Column("email_verified_at", sa.DateTime(timezone=True)),
    sa.CheckConstraint("role IN ('client', 'manager', 'admin')", name="users_role_known"),
    sa.Index("users_role_created", "role", "created_at"),
    sa.Index("users_created", "created_at", "id"),
)

refresh_tokens = sa.Table(
    "refresh_tokens",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("family_id", sa.Uuid, nullable=False, index=True),
    sa.Column("user_id", sa.Uuid, sa.ForeignKey("users.id"), nullable=False, index=True),
    sa.Column("token_hash", sa.Text, nullable=False, unique=True),
    sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("used_at", sa.DateTime(timezone=True)),
    sa.Column("revoked_at", sa.DateTime(timezone=True)),
)

# Links emailed to verify an address or reset a password: only their tokens' digests, each good
# once until it expires; a new link voids the earlier ones of its purpose.
account_links = sa.Table(
    "account_links",
    metadata,
    sa.Column("token_hash", sa.Text, primary_key=True),
    sa.Column("user_id", sa.Uuid, sa.ForeignKey("users.id"), nullable=False),
    sa.Column("purpose", sa.Text, nullable=False),
    # Where the link was sent: a verification proves this address, not a later one.
    sa.Column("email", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("used_at", sa.DateTime(timezone=True)),
)

outbox, consumed_events = event_tables(metadata)

# The statements of every sign-in and of /auth/me, built once (building one costs more CPU
# than sending it).
_BY_ID = sa.select(users).where(users.c.id == sa.bindparam("user_id"))
_USER = Prepared(_BY_ID)
_USER_FOR_UPDATE = Prepared(_BY_ID.with_for_update())
_BY_EMAIL = Prepared(sa.select(users).where(users.c.email_lower == sa.bindparam("email_lower")))
_TOKEN_FOR_UPDATE = Prepared(
    sa.select(refresh_tokens).where(refresh_tokens.c.token_hash == sa.bindparam("token_hash")).with_for_update())


class UserRepository:
    def __init__(self, connection: Connection):
        self.connection = connection

    async def add(self, row: dict) -> bool:
        """Inserts a user; False when the email is taken (in any case)."""
        result = await self.connection.execute(
            insert(users)
            .values(**row)
            .on_conflict_do_nothing(index_elements=["email_lower"])
            .returning(users.c.id)
        )
        return result.first() is not None

    async def by_id(self, user_id: uuid.UUID, for_update: bool = False) -> Row | None:
        query = _USER_FOR_UPDATE if for_update else _USER
        return (await self.connection.execute(query, {"user_id": user_id})).first()

    async def by_email(self, email_lower: str) -> Row | None:
        return (await self.connection.execute(_BY_EMAIL, {"email_lower": email_lower})).first()

    async def update(self, user_id: uuid.UUID, values: dict) -> None:
        await self.connection.execute(users.update().where(users.c.id == user_id).values(**values))

    async def change_email(self, user_id: uuid.UUID, values: dict) -> bool:
        """The user's new address (`email`, `email_lower`, …); False when another account has it."""
        try:
            async with self.connection.savepoint():
                await self.update(user_id, values)
        except sa.exc.IntegrityError:
            return False
        return True

    async def page(
        self, role: str | None, limit: int, after: tuple[datetime, uuid.UUID] | None
    ) -> tuple[list[Row], int]:
        """Newest first; keyset paging on (created_at, id)."""
        condition = sa.true() if role is None else users.c.role == role
        query = newest_first(sa.select(users).where(condition), users.c.created_at, users.c.id, after, limit)
        rows = (await self.connection.execute(query)).all()
        total = await self.connection.scalar(sa.select(sa.func.count()).select_from(users).where(condition))
        return rows, total


class RefreshTokenRepository:
    def __init__(self, connection: Connection):
        self.connection = connection

    async def add(self, row: dict) -> None:
        await self.connection.execute(refresh_tokens.insert().values(**row))

    async def by_hash_for_update(self, token_hash: str) -> Row | None:
        return (await self.connection.execute(_TOKEN_FOR_UPDATE, {"token_hash": token_hash})).first()

    async def mark_used(self, token_id: uuid.UUID, when: datetime) -> None:
        await self.connection.execute(
            refresh_tokens.update().where(refresh_tokens.c.id == token_id).values(used_at=when)
        )

    async def revoke_family(self, family_id: uuid.UUID, when: datetime) -> None:
        await self.connection.execute(
            refresh_tokens.update()
            .where(refresh_tokens.c.family_id == family_id, refresh_tokens.c.revoked_at.is_(None))
            .values(revoked_at=when)
        )

    async def revoke_user(self, user_id: uuid.UUID, when: datetime) -> None:
        await self.connection.execute(
            refresh_tokens.update()
            .where(refresh_tokens.c.user_id == user_id, refresh_tokens.c.revoked_at.is_(None))
            .values(revoked_at=when)
        )


class AccountLinkRepository:
    def __init__(self, connection: Connection):
        self.connection = connection

    async def replace(self, row: dict) -> None:
        """The new link, the user's earlier unused ones of its purpose voided."""
        await self.connection.execute(
            account_links.update().where(account_links.c.user_id == row["user_id"],
                                         account_links.c.purpose == row["purpose"], account_links.c.used_at.is_(None))
            .values(used_at=row["created_at"]))
        await self.connection.execute(account_links.insert().values(**row))

    async def valid(self, token_hash: str, purpose: str, at: datetime) -> Row | None:
        """The link with this digest and purpose if it is unused and unexpired."""
        return (await self.connection.execute(sa.select(account_links).where(
            account_links.c.token_hash == token_hash, account_links.c.purpose == purpose,
            account_links.c.used_at.is_(None), account_links.c.expires_at > at))).first()

    async def take(self, token_hash: str, purpose: str, at: datetime) -> Row | None:
        """The link with this digest and purpose, unused and unexpired, marked used (once: two
        takers cannot both get it); None otherwise."""
        return (await self.connection.execute(
            account_links.update().where(account_links.c.token_hash == token_hash, account_links.c.purpose == purpose,
                                         account_links.c.used_at.is_(None), account_links.c.expires_at > at)
            .values(used_at=at).returning(*account_links.c))).first()


class AuthRepository:
    """What a unit of work hands out: the users, their refresh tokens and their emailed links,
    on its connection."""

    def __init__(self, connection: Connection):
        self.users = UserRepository(connection)
        self.tokens = RefreshTokenRepository(connection)
        self.links = AccountLinkRepository(connection)
