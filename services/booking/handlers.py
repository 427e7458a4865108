"""booking's use cases: the workshop's job types and mechanics, free slots, bookings and their
moves, reminders, and test drives. The database refuses overlapping times (store.py); here a
refusal becomes ALREADY_EXISTS naming the clash."""
import datetime
import logging
import uuid

import sqlalchemy as sa

from autosalon.booking.v1 import booking_pb2
from autosalon.config.v1 import config_pb2
from services.kit import money, paging, vin
from services.kit.calls import Peers
from services.kit.db import Database, now
from services.kit.errors import AlreadyExists, FailedPrecondition, InvalidArgument, NotFound, each_field, prefixed
from services.kit.idempotency import IdempotencyKey, same_request
from services.kit.identity import Identity
from services.kit.protos import acting_for, check_etag, resource_id, slug_of
from services.kit.texts import check_text
from services.kit.ttl_cache import ExpiringCache
from services.peers import config, inventory

from . import domain, schedule, store
from .convert import (
    booking_to_proto, branch_schedule, days_off_json, hours_json, job_schedule, job_type_to_proto,
    mechanic_schedule, mechanic_to_proto, skill_name, slot_to_proto, test_drive_to_proto,
)

log = logging.getLogger(__name__)
JOB_TYPE_FIELDS = {"display_name", "duration_minutes", "skill", "active"}
MECHANIC_FIELDS = {"display_name", "skills", "hours", "days_off", "active"}


class Branches:
    """The config service's branches, kept a little while (config's branch events evict them)."""

    def __init__(self, peers: Peers, ttl_seconds: float):
        self.peers = peers
        self.cache: ExpiringCache[config_pb2.Branch] = ExpiringCache(ttl_seconds)

    async def open(self, branch_id: str, field: str) -> config_pb2.Branch:
        """The branch, which must be active; NOT_FOUND naming `field` when there is none."""
        branch = self.cache.get(branch_id)
        if branch is None:
            generation = self.cache.generation
            try:
                branch = await config.get_branch(self.peers, branch_id)
            except NotFound:
                raise NotFound(f"branches/{branch_id} does not exist ({field})") from None
            self.cache.put(branch_id, branch, generation)
        if not branch.active:
            raise FailedPrecondition(f"branches/{branch_id} is closed ({field})", domain.BRANCH_CLOSED)
        return branch

    def heard(self, envelope) -> None:
        self.cache.evict(envelope.subject.removeprefix("branches/"))


class BookingHandlers:
    def __init__(self, database: Database, peers: Peers, branches: Branches, settings):
        self.database = database
        self.peers = peers
        self.branches = branches
        # Hot: the reminder's lead time is read at each pass.
        self.settings = settings

    # Job types.

    async def list_job_types(self, show_inactive: bool) -> list[booking_pb2.JobType]:
        """The bookable kinds of job; with `show_inactive`, the retired ones too, which still
        name past bookings (a customer's service history, a notification about one)."""
        async with self.database.reading() as uow:
            return [job_type_to_proto(row) for row in await uow.repository.job_types(show_inactive)]

    async def create_job_type(self, caller: Identity, job_type_id: str, job_type: booking_pb2.JobType
                              ) -> booking_pb2.JobType:
        domain.check_job_type_id(job_type_id)
        values = _job_type_values(job_type, JOB_TYPE_FIELDS - {"active"})
        created = now()
        async with self.database.unit_of_work() as uow:
            row = await uow.repository.add_job_type({
                "id": job_type_id, **values, "active": True, "created_at": created, "updated_at": created,
                "created_by": caller.user_name, "updated_by": caller.user_name})
            if row is None:
                raise AlreadyExists(f"job-types/{job_type_id} exists")
            return job_type_to_proto(row)

    async def update_job_type(self, caller: Identity, job_type_id: str, job_type: booking_pb2.JobType,
                              fields: set[str]) -> booking_pb2.JobType:
        values = _job_type_values(job_type, fields)
        async with self.database.unit_of_work() as uow:
            row = await uow.repository.change_job_type(
                job_type_id, {**values, "updated_at": now(), "updated_by": caller.user_name})
            if row is None:
                raise NotFound(f"job-types/{job_type_id} does not exist")
            return job_type_to_proto(row)

    # Mechanics.

    async def list_mechanics(self, branch_id: str, requested_size: int, page_token: str
                             ) -> tuple[list[booking_pb2.Mechanic], str]:
        size, query = paging.page_size(requested_size), {"branch": branch_id}
        after = paging.uuid_position(paging.decode_token(page_token, query))
        async with self.database.reading() as uow:
            rows = await uow.repository.mechanic_page(branch_id, size + 1, after)
        shown = rows[:size]
        token = paging.encode_token([str(shown[-1].id)], query) if len(rows) > size else ""
        return [mechanic_to_proto(row) for row in shown], token

    async def get_mechanic(self, mechanic_id: uuid.UUID) -> booking_pb2.Mechanic:
        async with self.database.reading() as uow:
            return mechanic_to_proto(await _found(uow.repository.mechanic(mechanic_id), f"mechanics/{mechanic_id}"))

    async def create_mechanic(self, caller: Identity, branch_id: str, mechanic: booking_pb2.Mechanic
                              ) -> booking_pb2.Mechanic:
        values = _mechanic_values(mechanic, MECHANIC_FIELDS - {"active"})
        await self.branches.open(branch_id, "mechanic.branch")
        created = now()
        async with self.database.unit_of_work() as uow:
            row = await uow.repository.add_mechanic({
                "id": uuid.uuid4(), "branch_id": branch_id, **values, "active": True, "version": 1,
                "created_at": created, "updated_at": created, "created_by": caller.user_name,
                "updated_by": caller.user_name})
            return mechanic_to_proto(row)

    async def update_mechanic(self, caller: Identity, mechanic_id: uuid.UUID, mechanic: booking_pb2.Mechanic,
                              fields: set[str]) -> booking_pb2.Mechanic:
        values = _mechanic_values(mechanic, fields)
        async with self.database.unit_of_work() as uow:
            current = await _found(uow.repository.mechanic(mechanic_id, for_update=True), f"mechanics/{mechanic_id}")
            check_etag(mechanic.etag, current.version, f"mechanics/{mechanic_id}", "mechanic.etag")
            if all(getattr(current, name) == value for name, value in values.items()):
                return mechanic_to_proto(current)
            row = await uow.repository.change_mechanic(
                mechanic_id, {**values, "updated_at": now(), "updated_by": caller.user_name})
            return mechanic_to_proto(row)

    # Free slots.

    async def slots(self, branch_id: str, job_type_id: str, start: datetime.datetime, end: datetime.datetime
                    ) -> booking_pb2.ListSlotsResponse:
        if not start < end:
            raise InvalidArgument({"end_time": "must be after start_time"})
        if end - start > datetime.timedelta(days=domain.SLOT_WINDOW_DAYS):
            raise InvalidArgument({"end_time": f"must be at most {domain.SLOT_WINDOW_DAYS} days after start_time"})
        branch = await self.branches.open(branch_id, "branch")
        # Nobody books the past.
        start = max(start, now())
        async with self.database.reading() as uow:
            job = await self._offered(uow.repository, job_type_id, "job_type")
            found = await self._free(uow.repository, branch, branch_id, job, start, end)
        return booking_pb2.ListSlotsResponse(slots=[slot_to_proto(slot) for slot in found],
                                             time_zone=branch.time_zone)

    async def _free(self, repository, branch: config_pb2.Branch, branch_id: str, job, start, end,
                    mechanic_id: uuid.UUID | None = None) -> list[schedule.Slot]:
        """The free slots of the branch's (or one named) mechanics; busy times read for whole
        local days around the window, as the choice of mechanic weighs whole days."""
        rows = await repository.mechanics_of(branch_id)
        if mechanic_id is not None:
            rows = [row for row in rows if row.id == mechanic_id]
        if not rows or start >= end:
            return []
        busy = await repository.busy([row.id for row in rows], start - schedule.DAY, end + schedule.DAY)
        return schedule.free_slots(
            branch_schedule(branch), [mechanic_schedule(row) for row in rows], job_schedule(job),
            [schedule.Busy(str(row.mechanic_id), row.starts_at.astimezone(datetime.UTC), row.ends_at.astimezone(datetime.UTC))
             for row in busy], start, end)

    async def _offered(self, repository, job_type_id: str, field: str):
        job = await repository.job_type(job_type_id)
        if job is None or not job.active:
            raise NotFound(f"job-types/{job_type_id} is not offered ({field})")
        return job

    # Bookings.

    async def create_booking(self, caller: Identity, booking: booking_pb2.Booking, start: datetime.datetime,
                             key: IdempotencyKey) -> booking_pb2.Booking:
        customer = acting_for(caller, booking.customer, "booking.customer", staff_must_name=False)
        car = _vin(booking.vin)
        notes = check_text(booking.notes, "booking.notes", domain.NOTES_LONGEST)
        job_type_id = slug_of(booking.job_type, "job-types", "booking.job_type")
        branch_id = slug_of(booking.branch, "branches", "booking.branch")
        named = resource_id(booking.mechanic, "mechanics", "booking.mechanic") if booking.mechanic else None
        _check_ahead(start, "booking.start_time")
        if earlier := await self._made_before(store.bookings, caller, key):
            return booking_to_proto(earlier)
        branch = await self.branches.open(branch_id, "booking.branch")
        created = now()
        async with self.database.unit_of_work() as uow:
            repository = uow.repository
            job = await self._offered(repository, job_type_id, "booking.job_type")
            mechanic_id = await self._mechanic_for(repository, branch, branch_id, job, start, named, "booking.")
            row = {
                "id": uuid.uuid4(), "customer": customer, "vin": car, "job_type_id": job.id, "branch_id": branch_id,
                "mechanic_id": mechanic_id, "starts_at": start,
                "ends_at": start + datetime.timedelta(minutes=job.duration_minutes), "status": domain.SCHEDULED,
                "notes": notes, "cancel_reason": "", "work_done": "", "version": 1,
                "idempotency_key": key.text or None, "idempotency_request": key.request, "created_at": created,
                "updated_at": created, "created_by": caller.user_name, "updated_by": caller.user_name}
            try:
                async with uow.savepoint():
                    added = await repository.add_booking(row)
            except sa.exc.IntegrityError:
                raise await _mechanic_taken(repository, mechanic_id, row["starts_at"], row["ends_at"]) from None
            if added is None:
                earlier = await repository.by_key(store.bookings, caller.user_name, key.text)
                same_request(earlier.idempotency_request, key)
                return booking_to_proto(earlier)
            made = booking_to_proto(added)
            await uow.emit("booking.created", made.name, booking_pb2.BookingEvent(booking=made))
            return made

    async def _made_before(self, table, caller: Identity, key: IdempotencyKey):
        """What the caller made under this key already (a retried creation), for the same
        request only; None for a new key or none."""
        if not key:
            return None
        async with self.database.reading() as uow:
            earlier = await uow.repository.by_key(table, caller.user_name, key.text)
        if earlier is not None:
            same_request(earlier.idempotency_request, key)
        return earlier

    async def _mechanic_for(self, repository, branch: config_pb2.Branch, branch_id: str, job,
                            start: datetime.datetime, named: uuid.UUID | None, prefix: str = "") -> uuid.UUID:
        """The named mechanic, if they can take the job then by their hours and skills; else the
        one the free slots give for that start. Whether they are free is the database's to say.
        Problems name the request's fields `<prefix>mechanic` and `<prefix>start_time`."""
        if named is not None:
            row = await repository.mechanic(named)
            if row is None or row.branch_id != branch_id or not row.active:
                raise InvalidArgument({f"{prefix}mechanic": f"mechanics/{named} does not work at branches/{branch_id}"})
            schedule.check_booking(branch_schedule(branch), mechanic_schedule(row), job_schedule(job), start,
                                   prefix=prefix)
            return named
        free = await self._free(repository, branch, branch_id, job, start, start + schedule.MINUTE)
        if free and free[0].start == start:
            return uuid.UUID(free[0].mechanic)
        # Nobody free then: say why, as the first mechanic with the skill sees it.
        skilled = [row for row in await repository.mechanics_of(branch_id) if job.skill in row.skills]
        if not skilled:
            raise FailedPrecondition(f"nobody at branches/{branch_id} does {job.skill}", domain.NO_MECHANIC_FOR_JOB)
        where, what = branch_schedule(branch), job_schedule(job)
        for row in skilled:
            schedule.check_booking(where, mechanic_schedule(row), what, start, prefix=prefix)
        raise AlreadyExists(f"every mechanic at branches/{branch_id} who does {job.skill} is booked at "
                            f"{start.isoformat()}; GET /service/slots shows the free times", domain.SLOT_TAKEN)

    async def get_booking(self, caller: Identity, booking_id: uuid.UUID) -> booking_pb2.Booking:
        async with self.database.reading() as uow:
            return booking_to_proto(await _own_booking(uow.repository, caller, booking_id))

    async def list_bookings(self, caller: Identity, status: str, branch_id: str, since, until, requested_size: int,
                            page_token: str) -> tuple[list[booking_pb2.Booking], str]:
        table = store.bookings
        conditions = [] if caller.is_staff else [table.c.customer == caller.user_name]
        if status:
            conditions.append(table.c.status == status)
        if branch_id:
            conditions.append(table.c.branch_id == branch_id)
        if since is not None:
            conditions.append(table.c.starts_at >= since)
        if until is not None:
            conditions.append(table.c.starts_at < until)
        size = paging.page_size(requested_size)
        query = {"status": status, "branch": branch_id, "since": str(since or ""), "until": str(until or ""),
                 "customer": "" if caller.is_staff else caller.user_name}
        after = paging.time_position(paging.decode_token(page_token, query))
        async with self.database.reading() as uow:
            rows = await uow.repository.booking_page(conditions, size + 1, after)
        shown = rows[:size]
        token = paging.time_token(shown[-1].starts_at, shown[-1].id, query) if len(rows) > size else ""
        return [booking_to_proto(row) for row in shown], token

    async def reschedule(self, caller: Identity, booking_id: uuid.UUID, start: datetime.datetime,
                         mechanic: str) -> booking_pb2.Booking:
        named = resource_id(mechanic, "mechanics", "mechanic") if mechanic else None
        _check_ahead(start, "start_time")
        async with self.database.reading() as uow:
            current = await _own_booking(uow.repository, caller, booking_id)
        branch = await self.branches.open(current.branch_id, "branch")
        async with self.database.unit_of_work() as uow:
            repository = uow.repository
            current = await _own_booking(repository, caller, booking_id, for_update=True)
            if current.status != domain.SCHEDULED:
                raise FailedPrecondition(f"the booking is {current.status}; only a scheduled one is rescheduled",
                                         domain.WRONG_STATE, {"status": current.status})
            if start == current.starts_at and named in (None, current.mechanic_id):
                return booking_to_proto(current)
            job = await repository.job_type(current.job_type_id)
            if named is None and await self._can_keep(repository, branch, current, job, start):
                named = current.mechanic_id
            mechanic_id = await self._mechanic_for(repository, branch, current.branch_id, job, start, named)
            ends = start + datetime.timedelta(minutes=job.duration_minutes)
            try:
                async with uow.savepoint():
                    row = await repository.change_booking(booking_id, {
                        "starts_at": start, "ends_at": ends, "mechanic_id": mechanic_id, "reminded_at": None,
                        "updated_at": now(), "updated_by": caller.user_name})
            except sa.exc.IntegrityError:
                raise await _mechanic_taken(repository, mechanic_id, start, ends, booking_id) from None
            moved = booking_to_proto(row)
            await uow.emit("booking.rescheduled", moved.name, booking_pb2.BookingEvent(booking=moved))
            return moved

    async def _can_keep(self, repository, branch, current, job, start: datetime.datetime) -> bool:
        """Whether the booking's own mechanic could take it at `start` (its own time aside)."""
        ends = start + datetime.timedelta(minutes=job.duration_minutes)
        if await repository.clash(current.mechanic_id, start, ends, other_than=current.id) is not None:
            return False
        mechanic = await repository.mechanic(current.mechanic_id)
        try:
            schedule.check_booking(branch_schedule(branch), mechanic_schedule(mechanic), job_schedule(job), start)
        except InvalidArgument:
            return False
        return mechanic.active

    async def move(self, caller: Identity, booking_id: uuid.UUID, wanted: str, values: dict) -> booking_pb2.Booking:
        """Cancels (its customer or staff), starts or completes (staff; the API says who may) a
        booking; a booking already there is returned as it is (a retried call)."""
        async with self.database.unit_of_work() as uow:
            current = await _own_booking(uow.repository, caller, booking_id, for_update=True)
            if current.status == wanted:
                return booking_to_proto(current)
            domain.check_move(current.status, wanted)
            row = await uow.repository.change_booking(booking_id, {
                **values, "status": wanted, "updated_at": now(), "updated_by": caller.user_name})
            moved = booking_to_proto(row)
            await uow.emit(domain.EVENTS[wanted], moved.name, booking_pb2.BookingEvent(booking=moved))
            return moved

    async def history(self, caller: Identity, vehicle: str, requested_size: int, page_token: str
                      ) -> tuple[list[booking_pb2.Booking], str]:
        car = _vin(vehicle.removeprefix("vehicles/"), "vehicle")
        customer = None if caller.is_staff else caller.user_name
        size, query = paging.page_size(requested_size), {"vin": car, "customer": customer or ""}
        after = paging.time_position(paging.decode_token(page_token, query))
        async with self.database.reading() as uow:
            rows = await uow.repository.history(car, customer, size, after)
        shown, token = paging.newest_page(rows, size, query, "starts_at")
        return [booking_to_proto(row) for row in shown], token

    async def remind(self) -> int:
        """One pass: every scheduled booking starting within the lead time announced once (the
        mark and the event commit together). Returns how many, so a full batch runs again."""
        lead = datetime.timedelta(minutes=self.settings.reminder_lead_minutes)
        async with self.database.unit_of_work() as uow:
            due = await uow.repository.reminders_due(lead, now())
            for row in due:
                booking = booking_to_proto(row)
                await uow.emit("booking.reminder_due", booking.name, booking_pb2.BookingEvent(booking=booking))
                await uow.repository.mark_reminded(row.id, now())
        return len(due) == 100

    # Test drives.

    async def create_test_drive(self, caller: Identity, drive: booking_pb2.TestDrive, start: datetime.datetime,
                                key: IdempotencyKey) -> booking_pb2.TestDrive:
        customer = acting_for(caller, drive.customer, "test_drive.customer", staff_must_name=False)
        vehicle_id = resource_id(drive.vehicle, "vehicles", "test_drive.vehicle")
        branch_id = slug_of(drive.branch, "branches", "test_drive.branch")
        duration = datetime.timedelta(minutes=drive.duration_minutes)
        _prefixed("test_drive.", lambda: schedule.check_test_drive(duration))
        if drive.salesperson:
            resource_id(drive.salesperson, "salespeople", "test_drive.salesperson")
        _check_ahead(start, "test_drive.start_time")
        if earlier := await self._made_before(store.test_drives, caller, key):
            return test_drive_to_proto(earlier)
        branch = await self.branches.open(branch_id, "test_drive.branch")
        _prefixed("test_drive.", lambda: schedule.check_test_drive_time(branch_schedule(branch), start, duration))
        car = await inventory.get_vehicle(self.peers, vehicle_id)
        if inventory.status_name(car) != "available":
            raise FailedPrecondition(f"vehicles/{vehicle_id} is {inventory.status_name(car)}: only an available car "
                                     "is driven", domain.VEHICLE_NOT_AVAILABLE)
        created = now()
        row = {"id": uuid.uuid4(), "customer": customer, "vehicle_id": vehicle_id, "branch_id": branch_id,
               "salesperson": drive.salesperson, "starts_at": start, "ends_at": start + duration,
               "status": domain.SCHEDULED, "cancel_reason": "", "idempotency_key": key.text or None,
               "idempotency_request": key.request, "created_at": created, "updated_at": created,
               "created_by": caller.user_name, "updated_by": caller.user_name}
        async with self.database.unit_of_work() as uow:
            repository = uow.repository
            try:
                async with uow.savepoint():
                    added = await repository.add_test_drive(row)
            except sa.exc.IntegrityError:
                clash = await repository.drive_clash(vehicle_id, row["starts_at"], row["ends_at"])
                raise AlreadyExists(f"vehicles/{vehicle_id} is out on a test drive then"
                                    + (f" (test-drives/{clash.id}, {clash.starts_at.isoformat()} to "
                                       f"{clash.ends_at.isoformat()})" if clash else ""), domain.SLOT_TAKEN) from None
            if added is None:
                earlier = await repository.by_key(store.test_drives, caller.user_name, key.text)
                same_request(earlier.idempotency_request, key)
                return test_drive_to_proto(earlier)
            made = test_drive_to_proto(added)
            await uow.emit("test_drive.created", made.name, booking_pb2.TestDriveEvent(test_drive=made))
            return made

    async def get_test_drive(self, caller: Identity, drive_id: uuid.UUID) -> booking_pb2.TestDrive:
        async with self.database.reading() as uow:
            return test_drive_to_proto(await _own_drive(uow.repository, caller, drive_id))

    async def list_test_drives(self, caller: Identity, branch_id: str, day: datetime.date | None,
                               requested_size: int, page_token: str) -> tuple[list[booking_pb2.TestDrive], str]:
        table = store.test_drives
        conditions = [] if caller.is_staff else [table.c.customer == caller.user_name]
        if branch_id:
            conditions.append(table.c.branch_id == branch_id)
        if day is not None:
            zone = branch_schedule(await self.branches.open(branch_id, "branch")).zone if branch_id else datetime.UTC
            since = datetime.datetime.combine(day, datetime.time(0), zone)
            until = datetime.datetime.combine(day + datetime.timedelta(days=1), datetime.time(0), zone)
            conditions += [table.c.starts_at >= since, table.c.starts_at < until]
        size = paging.page_size(requested_size)
        query = {"branch": branch_id, "day": day.isoformat() if day else "",
                 "customer": "" if caller.is_staff else caller.user_name}
        after = paging.time_position(paging.decode_token(page_token, query))
        async with self.database.reading() as uow:
            rows = await uow.repository.drive_page(conditions, size + 1, after)
        shown = rows[:size]
        token = paging.time_token(shown[-1].starts_at, shown[-1].id, query) if len(rows) > size else ""
        return [test_drive_to_proto(row) for row in shown], token

    async def cancel_test_drive(self, caller: Identity, drive_id: uuid.UUID, reason: str) -> booking_pb2.TestDrive:
        reason = check_text(reason, "reason", domain.REASON_LONGEST, required=True)
        async with self.database.unit_of_work() as uow:
            current = await _own_drive(uow.repository, caller, drive_id, for_update=True)
            if current.status == domain.CANCELLED:
                return test_drive_to_proto(current)
            row = await uow.repository.cancel_drive(drive_id, reason, caller.user_name, now())
            cancelled = test_drive_to_proto(row)
            await uow.emit("test_drive.cancelled", cancelled.name, booking_pb2.TestDriveEvent(test_drive=cancelled))
            return cancelled

    async def vehicle_taken(self, uow, vehicle_name: str, what: str) -> None:
        """Inventory reserved or sold the car: its drives still to come are cancelled."""
        try:
            vehicle_id = resource_id(vehicle_name, "vehicles")
        except InvalidArgument:
            return
        at = now()
        for drive in await uow.repository.drives_of_vehicle(vehicle_id, at):
            row = await uow.repository.cancel_drive(drive.id, f"the car was {what}", "inventory", at)
            cancelled = test_drive_to_proto(row)
            await uow.emit("test_drive.cancelled", cancelled.name, booking_pb2.TestDriveEvent(test_drive=cancelled))


async def _found(lookup, name: str):
    row = await lookup
    if row is None:
        raise NotFound(f"{name} does not exist")
    return row


async def _own_booking(repository, caller: Identity, booking_id: uuid.UUID, for_update: bool = False):
    row = await repository.booking(booking_id, for_update)
    if row is None or (not caller.is_staff and row.customer != caller.user_name):
        raise NotFound(f"bookings/{booking_id} does not exist")
    return row


async def _own_drive(repository, caller: Identity, drive_id: uuid.UUID, for_update: bool = False):
    row = await repository.test_drive(drive_id, for_update)
    if row is None or (not caller.is_staff and row.customer != caller.user_name):
        raise NotFound(f"test-drives/{drive_id} does not exist")
    return row


async def _mechanic_taken(repository, mechanic_id: uuid.UUID, since, until, other_than=None) -> AlreadyExists:
    clash = await repository.clash(mechanic_id, since, until, other_than)
    held = (f" by bookings/{clash.id} from {clash.starts_at.isoformat()} to {clash.ends_at.isoformat()}"
            if clash else "")
    return AlreadyExists(f"mechanics/{mechanic_id} is booked then{held}", domain.SLOT_TAKEN)


def _prefixed(prefix: str, check) -> None:
    """Runs `check`, its problems named as fields of the request's `prefix`."""
    try:
        check()
    except InvalidArgument as error:
        raise InvalidArgument(prefixed(error.violations, prefix)) from None


def _vin(raw: str, field: str = "booking.vin") -> str:
    car = vin.normalize(raw)
    problem = vin.structural_problem(car)
    if problem:
        raise InvalidArgument({field: problem})
    return car


def _check_ahead(start: datetime.datetime, field: str) -> None:
    moment = now()
    if start <= moment:
        raise InvalidArgument({field: "must be in the future"})
    if start > moment + datetime.timedelta(days=domain.BOOKING_HORIZON_DAYS):
        raise InvalidArgument({field: f"must be within {domain.BOOKING_HORIZON_DAYS} days"})


def _job_type_values(job_type: booking_pb2.JobType, fields: set[str]) -> dict:
    readers = {
        "display_name": lambda: check_text(job_type.display_name, "job_type.display_name",
                                                  domain.NAME_LONGEST, required=True),
        "duration_minutes": lambda: domain.check_duration(job_type.duration_minutes),
        "skill": lambda: skill_name(job_type.skill, "job_type.skill"),
        "active": lambda: job_type.active,
    }
    return each_field(readers, fields)


def _mechanic_values(mechanic: booking_pb2.Mechanic, fields: set[str]) -> dict:
    readers = {
        "display_name": lambda: check_text(mechanic.display_name, "mechanic.display_name",
                                                  domain.NAME_LONGEST, required=True),
        "skills": lambda: domain.check_skills([skill_name(skill, "mechanic.skills") for skill in mechanic.skills]),
        "hours": lambda: hours_json(mechanic.hours),
        "days_off": lambda: days_off_json(list(mechanic.days_off)),
        "active": lambda: mechanic.active,
    }
    return each_field(readers, fields)


def completion(parts, labour, work_done: str) -> dict:
    """The columns a completed job records: exact amounts, what was done."""
    return {"parts": domain.check_amount(money.from_proto(parts, "parts"), "parts"),
            "labour": domain.check_amount(money.from_proto(labour, "labour"), "labour"),
            "work_done": check_text(work_done, "work_done", domain.NOTES_LONGEST)}
