"""booking's conversions between protobuf messages, the schedule's types and rows."""
import datetime
from zoneinfo import ZoneInfo

from autosalon.booking.v1 import booking_pb2
from autosalon.config.v1 import config_pb2
from services.kit import money
from services.kit.errors import InvalidArgument
from services.kit.protos import audit, dates_from, timestamp

from . import domain, schedule

SKILL = {"maintenance": booking_pb2.SKILL_MAINTENANCE, "repair": booking_pb2.SKILL_REPAIR,
         "diagnostics": booking_pb2.SKILL_DIAGNOSTICS, "tyres": booking_pb2.SKILL_TYRES,
         "bodywork": booking_pb2.SKILL_BODYWORK}
SKILL_NAME = {value: key for key, value in SKILL.items()}
STATUS = {domain.SCHEDULED: booking_pb2.BOOKING_STATUS_SCHEDULED,
          domain.IN_PROGRESS: booking_pb2.BOOKING_STATUS_IN_PROGRESS,
          domain.COMPLETED: booking_pb2.BOOKING_STATUS_COMPLETED,
          domain.CANCELLED: booking_pb2.BOOKING_STATUS_CANCELLED}
STATUS_NAME = {value: key for key, value in STATUS.items()}
DRIVE_STATUS = {domain.SCHEDULED: booking_pb2.TEST_DRIVE_STATUS_SCHEDULED,
                domain.CANCELLED: booking_pb2.TEST_DRIVE_STATUS_CANCELLED}


def skill_name(value: int, field: str) -> str:
    if value not in SKILL_NAME:
        raise InvalidArgument({field: f"must be one of {', '.join(sorted(SKILL))}"})
    return SKILL_NAME[value]


def _clock(text: str, field: str) -> datetime.time:
    try:
        if len(text) != 5:
            raise ValueError(text)
        return datetime.time.fromisoformat(text)
    except ValueError:
        raise InvalidArgument({field: f"must be a time of day as HH:MM, not {text[:20]!r}"}) from None


def week(intervals: list[tuple[int, datetime.time, datetime.time]], field: str) -> schedule.WorkingHours:
    """A week from (weekday 1-7, start, end) triples, or InvalidArgument on `field`."""
    days: dict[str, list[tuple[datetime.time, datetime.time]]] = {day: [] for day in schedule.WEEKDAYS}
    for weekday, start, end in intervals:
        if not 1 <= weekday <= 7:
            raise InvalidArgument({field: "each weekday must be 1 (Monday) to 7 (Sunday)"})
        days[schedule.WEEKDAYS[weekday - 1]].append((start, end))
    try:
        return schedule.WorkingHours(**{day: tuple(sorted(spans)) for day, spans in days.items()})
    except ValueError as error:
        raise InvalidArgument({field: str(error)}) from None


def hours_json(hours, field: str = "mechanic.hours") -> list[dict]:
    """A mechanic's own week from the API, checked, as stored."""
    intervals = [(item.weekday, _clock(item.start, f"{field}[{index}].start"), _clock(item.end, f"{field}[{index}].end"))
                 for index, item in enumerate(hours)]
    week(intervals, field)
    return [{"weekday": weekday, "start": start.strftime("%H:%M"), "end": end.strftime("%H:%M")}
            for weekday, start, end in sorted(intervals)]


def days_off_json(days: list[str], field: str = "mechanic.days_off") -> list[str]:
    return [day.isoformat() for day in dates_from(days, field)]


def branch_schedule(branch: config_pb2.Branch) -> schedule.Branch:
    """The config service's branch as the schedule needs it."""
    hours = week([(opening.weekday, datetime.time.fromisoformat(opening.opens), datetime.time.fromisoformat(opening.closes))
                  for opening in branch.hours], "branch.hours")
    return schedule.Branch(ZoneInfo(branch.time_zone), hours,
                           frozenset(datetime.date.fromisoformat(day) for day in branch.days_off))


def mechanic_schedule(row) -> schedule.Mechanic:
    own = week([(item["weekday"], datetime.time.fromisoformat(item["start"]), datetime.time.fromisoformat(item["end"]))
                for item in row.hours], "mechanic.hours") if row.hours else None
    return schedule.Mechanic(str(row.id), frozenset(row.skills),
                             frozenset(datetime.date.fromisoformat(day) for day in row.days_off), own)


def job_schedule(row) -> schedule.JobType:
    return schedule.JobType(row.id, datetime.timedelta(minutes=row.duration_minutes), row.skill)


def job_type_to_proto(row) -> booking_pb2.JobType:
    return booking_pb2.JobType(name=f"job-types/{row.id}", display_name=row.display_name,
                               duration_minutes=row.duration_minutes, skill=SKILL[row.skill], active=row.active)


def mechanic_to_proto(row) -> booking_pb2.Mechanic:
    return booking_pb2.Mechanic(
        name=f"mechanics/{row.id}", display_name=row.display_name, branch=f"branches/{row.branch_id}",
        skills=[SKILL[skill] for skill in row.skills],
        hours=[booking_pb2.WorkingHours(weekday=item["weekday"], start=item["start"], end=item["end"])
               for item in row.hours],
        days_off=row.days_off, active=row.active, etag=str(row.version), audit=audit(row))


def booking_to_proto(row) -> booking_pb2.Booking:
    return booking_pb2.Booking(
        name=f"bookings/{row.id}", customer=row.customer, vin=row.vin, job_type=f"job-types/{row.job_type_id}",
        branch=f"branches/{row.branch_id}", start_time=timestamp(row.starts_at), end_time=timestamp(row.ends_at),
        mechanic=f"mechanics/{row.mechanic_id}", status=STATUS[row.status], notes=row.notes,
        cancel_reason=row.cancel_reason, parts=money.to_proto(row.parts) if row.parts is not None else None,
        labour=money.to_proto(row.labour) if row.labour is not None else None, work_done=row.work_done,
        etag=str(row.version), audit=audit(row))


def test_drive_to_proto(row) -> booking_pb2.TestDrive:
    return booking_pb2.TestDrive(
        name=f"test-drives/{row.id}", customer=row.customer, vehicle=f"vehicles/{row.vehicle_id}",
        branch=f"branches/{row.branch_id}", start_time=timestamp(row.starts_at),
        duration_minutes=int((row.ends_at - row.starts_at).total_seconds() // 60), end_time=timestamp(row.ends_at),
        salesperson=row.salesperson, status=DRIVE_STATUS[row.status], cancel_reason=row.cancel_reason,
        audit=audit(row))


def slot_to_proto(slot: schedule.Slot) -> booking_pb2.Slot:
    return booking_pb2.Slot(start_time=timestamp(slot.start), end_time=timestamp(slot.end),
                            mechanic=f"mechanics/{slot.mechanic}")
