"""booking's tables and queries: job types, mechanics, bookings and test drives. Two exclusion
constraints keep a mechanic from two overlapping jobs and a car from two overlapping drives."""
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
# What the exclusion constraints are called: a refusal names the clash by them.
MECHANIC_TAKEN = "bookings_one_job_at_a_time"
VEHICLE_TAKEN = "test_drives_one_drive_at_a_time"
# A booking holds its mechanic's time in these.
HOLDING = ("scheduled", "in_progress")

job_types = sa.Table(
    "job_types",
    metadata,
    sa.Column("id", sa.Text, primary_key=True),
    sa.Column("display_name", sa.Text, nullable=False),
    sa.Column("duration_minutes", sa.Integer, nullable=False),
    sa.Column("skill", sa.Text, nullable=False),
    sa.Column("active", sa.Boolean, nullable=False),
    *audited(),
)

mechanics = sa.Table(
    "mechanics",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("display_name", sa.Text, nullable=False),
    sa.Column("branch_id", sa.Text, nullable=False),
    # ["repair", ...]
    sa.Column("skills", JSONB, nullable=False),
    # [{"weekday": 1, "start": "09:00", "end": "18:00"}, ...]; [] for the branch's hours.
    sa.Column("hours", JSONB, nullable=False),
    sa.Column("days_off", JSONB, nullable=False),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("version", sa.BigInteger, nullable=False),
    *audited(),
)

bookings = sa.Table(
    "bookings",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("customer", sa.Text, nullable=False),
    sa.Column("vin", sa.Text, nullable=False),
    sa.Column("job_type_id", sa.Text, nullable=False),
    sa.Column("branch_id", sa.Text, nullable=False),
    sa.Column("mechanic_id", sa.Uuid, nullable=False),
    sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("notes", sa.Text, nullable=False),
    sa.Column("cancel_reason", sa.Text, nullable=False),
    sa.Column("parts", MONEY),
    sa.Column("labour", MONEY),
    sa.Column("work_done", sa.Text, nullable=False),
    # When its reminder was announced; none yet.
    sa.Column("reminded_at", sa.DateTime(timezone=True)),
    sa.Column("version", sa.BigInteger, nullable=False),
    *keyed(),
    *audited(),
)

test_drives = sa.Table(
    "test_drives",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("customer", sa.Text, nullable=False),
    sa.Column("vehicle_id", sa.Uuid, nullable=False),
    sa.Column("branch_id", sa.Text, nullable=False),
    sa.Column("salesperson", sa.Text, nullable=False),
    sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("status", sa.Text, nullable=False),
    sa.Column("cancel_reason", sa.Text, nullable=False),
    *keyed(),
    *audited(),
)

outbox, consumed_events = event_tables(metadata)


class BookingRepository:
    def __init__(self, connection: Connection):
        self.connection = connection

    # Job types and mechanics.

    async def job_type(self, job_type_id: str) -> Row | None:
        return (await self.connection.execute(sa.select(job_types).where(job_types.c.id == job_type_id))).first()

    async def job_types(self, with_inactive: bool) -> list[Row]:
        conditions = [] if with_inactive else [job_types.c.active]
        return (await self.connection.execute(sa.select(job_types).where(*conditions).order_by(job_types.c.id))).all()

    async def add_job_type(self, row: dict) -> Row | None:
        return (await self.connection.execute(
            insert(job_types).values(**row).on_conflict_do_nothing(index_elements=["id"]).returning(*job_types.c)
        )).first()

    async def change_job_type(self, job_type_id: str, values: dict) -> Row | None:
        return (await self.connection.execute(
            job_types.update().where(job_types.c.id == job_type_id).values(**values).returning(*job_types.c))).first()

    async def mechanic(self, mechanic_id: uuid.UUID, for_update: bool = False) -> Row | None:
        query = sa.select(mechanics).where(mechanics.c.id == mechanic_id)
        return (await self.connection.execute(query.with_for_update() if for_update else query)).first()

    async def mechanics_of(self, branch_id: str) -> list[Row]:
        """The branch's active mechanics."""
        return (await self.connection.execute(sa.select(mechanics).where(
            mechanics.c.branch_id == branch_id, mechanics.c.active).order_by(mechanics.c.id))).all()

    async def add_mechanic(self, row: dict) -> Row:
        return (await self.connection.execute(mechanics.insert().values(**row).returning(*mechanics.c))).first()

    async def change_mechanic(self, mechanic_id: uuid.UUID, values: dict) -> Row:
        return (await self.connection.execute(
            mechanics.update().where(mechanics.c.id == mechanic_id)
            .values(**values, version=mechanics.c.version + 1).returning(*mechanics.c))).first()

    async def mechanic_page(self, branch_id: str, limit: int, after: uuid.UUID | None) -> list[Row]:
        conditions = [mechanics.c.branch_id == branch_id] if branch_id else []
        if after is not None:
            conditions.append(mechanics.c.id > after)
        return (await self.connection.execute(
            sa.select(mechanics).where(*conditions).order_by(mechanics.c.id).limit(limit))).all()

    # Bookings.

    async def busy(self, mechanic_ids: list[uuid.UUID], since: datetime.datetime, until: datetime.datetime
                   ) -> list[Row]:
        """(mechanic_id, starts_at, ends_at) of the jobs holding these mechanics' time that
        overlap [since, until)."""
        return (await self.connection.execute(
            sa.select(bookings.c.mechanic_id, bookings.c.starts_at, bookings.c.ends_at).where(
                bookings.c.mechanic_id.in_(mechanic_ids), bookings.c.status.in_(HOLDING),
                bookings.c.starts_at < until, bookings.c.ends_at > since))).all()

    async def add_booking(self, row: dict) -> Row | None:
        """The new booking; None when its creator already made one under the same key. A clash
        with another of the mechanic's jobs raises IntegrityError (MECHANIC_TAKEN)."""
        return (await self.connection.execute(
            insert(bookings).values(**row).on_conflict_do_nothing(constraint="bookings_one_per_idempotency_key")
            .returning(*bookings.c))).first()

    async def by_key(self, table: sa.Table, creator: str, key: str) -> Row | None:
        return (await self.connection.execute(sa.select(table).where(
            table.c.created_by == creator, table.c.idempotency_key == key))).first()

    async def booking(self, booking_id: uuid.UUID, for_update: bool = False) -> Row | None:
        query = sa.select(bookings).where(bookings.c.id == booking_id)
        return (await self.connection.execute(query.with_for_update() if for_update else query)).first()

    async def change_booking(self, booking_id: uuid.UUID, values: dict) -> Row:
        """Raises IntegrityError (MECHANIC_TAKEN) for new times that clash."""
        return (await self.connection.execute(
            bookings.update().where(bookings.c.id == booking_id)
            .values(**values, version=bookings.c.version + 1).returning(*bookings.c))).first()

    async def clash(self, mechanic_id: uuid.UUID, since: datetime.datetime, until: datetime.datetime,
                    other_than: uuid.UUID | None = None) -> Row | None:
        """A job of the mechanic's holding some of [since, until)."""
        conditions = [bookings.c.mechanic_id == mechanic_id, bookings.c.status.in_(HOLDING),
                      bookings.c.starts_at < until, bookings.c.ends_at > since]
        if other_than is not None:
            conditions.append(bookings.c.id != other_than)
        return (await self.connection.execute(sa.select(bookings).where(*conditions).limit(1))).first()

    async def booking_page(self, conditions: list, limit: int, after: tuple | None) -> list[Row]:
        """Ascending by start, then id."""
        if after is not None:
            conditions = [*conditions, sa.tuple_(bookings.c.starts_at, bookings.c.id) > sa.tuple_(*after)]
        return (await self.connection.execute(sa.select(bookings).where(*conditions)
                                              .order_by(bookings.c.starts_at, bookings.c.id).limit(limit))).all()

    async def history(self, vin: str, customer: str | None, limit: int, after: tuple | None) -> list[Row]:
        """The car's bookings that are not cancelled, newest first."""
        conditions = [bookings.c.vin == vin, bookings.c.status != "cancelled"]
        if customer is not None:
            conditions.append(bookings.c.customer == customer)
        query = sa.select(bookings).where(*conditions)
        return (await self.connection.execute(
            newest_first(query, bookings.c.starts_at, bookings.c.id, after, limit))).all()

    async def reminders_due(self, lead: datetime.timedelta, at: datetime.datetime, limit: int = 100) -> list[Row]:
        """Scheduled bookings starting within `lead` of `at` whose reminder is not out yet, locked
        so that two instances never announce one twice."""
        return (await self.connection.execute(
            sa.select(bookings).where(bookings.c.status == "scheduled", bookings.c.reminded_at.is_(None),
                                      bookings.c.starts_at <= at + lead, bookings.c.starts_at > at)
            .order_by(bookings.c.starts_at).limit(limit).with_for_update(skip_locked=True))).all()

    async def mark_reminded(self, booking_id: uuid.UUID, at: datetime.datetime) -> None:
        await self.connection.execute(bookings.update().where(bookings.c.id == booking_id).values(reminded_at=at))

    # Test drives.

    async def add_test_drive(self, row: dict) -> Row | None:
        """None under a repeated idempotency key; IntegrityError (VEHICLE_TAKEN) for a clash."""
        return (await self.connection.execute(
            insert(test_drives).values(**row).on_conflict_do_nothing(constraint="test_drives_one_per_idempotency_key")
            .returning(*test_drives.c))).first()

    async def test_drive(self, drive_id: uuid.UUID, for_update: bool = False) -> Row | None:
        query = sa.select(test_drives).where(test_drives.c.id == drive_id)
        return (await self.connection.execute(query.with_for_update() if for_update else query)).first()

    async def drive_clash(self, vehicle_id: uuid.UUID, since: datetime.datetime, until: datetime.datetime
                          ) -> Row | None:
        return (await self.connection.execute(sa.select(test_drives).where(
            test_drives.c.vehicle_id == vehicle_id, test_drives.c.status == "scheduled",
            test_drives.c.starts_at < until, test_drives.c.ends_at > since).limit(1))).first()

    async def cancel_drive(self, drive_id: uuid.UUID, reason: str, actor: str, at: datetime.datetime) -> Row | None:
        return (await self.connection.execute(
            test_drives.update().where(test_drives.c.id == drive_id, test_drives.c.status == "scheduled")
            .values(status="cancelled", cancel_reason=reason, updated_by=actor, updated_at=at)
            .returning(*test_drives.c))).first()

    async def drives_of_vehicle(self, vehicle_id: uuid.UUID, after: datetime.datetime) -> list[Row]:
        """Its scheduled drives that have not ended by `after`, locked."""
        return (await self.connection.execute(sa.select(test_drives).where(
            test_drives.c.vehicle_id == vehicle_id, test_drives.c.status == "scheduled",
            test_drives.c.ends_at > after).with_for_update())).all()

    async def drive_page(self, conditions: list, limit: int, after: tuple | None) -> list[Row]:
        if after is not None:
            conditions = [*conditions, sa.tuple_(test_drives.c.starts_at, test_drives.c.id) > sa.tuple_(*after)]
        return (await self.connection.execute(sa.select(test_drives).where(*conditions)
                                              .order_by(test_drives.c.starts_at, test_drives.c.id).limit(limit))).all()
