"""booking's rules beyond the schedule (schedule.py): the moves of a booking and a test drive,
job types, and the texts and amounts they carry. Pure functions; problems are InvalidArgument
or FailedPrecondition naming the field or the status."""
from decimal import Decimal

from services.kit.errors import FailedPrecondition, InvalidArgument
from services.kit.protos import SLUG

from .schedule import GRID, SKILLS

SCHEDULED, IN_PROGRESS, COMPLETED, CANCELLED = "scheduled", "in_progress", "completed", "cancelled"

# Why booking refuses a request (google.rpc.ErrorInfo.reason; proto/autosalon/ERRORS.md lists them).
SLOT_TAKEN = "SLOT_TAKEN"
BRANCH_CLOSED = "BRANCH_CLOSED"
NO_MECHANIC_FOR_JOB = "NO_MECHANIC_FOR_JOB"
WRONG_STATE = "WRONG_STATE"
VEHICLE_NOT_AVAILABLE = "VEHICLE_NOT_AVAILABLE"
STATUSES = (SCHEDULED, IN_PROGRESS, COMPLETED, CANCELLED)
# Where a booking may go from each status.
MOVES = {SCHEDULED: {IN_PROGRESS, CANCELLED}, IN_PROGRESS: {COMPLETED, CANCELLED}, COMPLETED: set(),
         CANCELLED: set()}
# The events a move announces.
EVENTS = {IN_PROGRESS: "booking.started", COMPLETED: "booking.completed", CANCELLED: "booking.cancelled"}

SHORTEST_JOB, LONGEST_JOB = 15, 480
NOTES_LONGEST = 2000
REASON_LONGEST = 500
NAME_LONGEST = 200
# The furthest ahead a booking or a test drive may be made, and the widest window of slots.
BOOKING_HORIZON_DAYS = 180
SLOT_WINDOW_DAYS = 14


def check_move(current: str, wanted: str, what: str = "booking") -> None:
    if wanted not in MOVES[current]:
        raise FailedPrecondition(f"the {what} is {current}; it cannot become {wanted}", WRONG_STATE, {"status": current})


def check_job_type_id(job_type_id: str, field: str = "job_type_id") -> str:
    if not SLUG.fullmatch(job_type_id):
        raise InvalidArgument({field: "must be 2 to 40 lower-case letters, digits and '-', e.g. oil-change"})
    return job_type_id


def check_duration(minutes: int, field: str = "job_type.duration_minutes") -> int:
    grid = int(GRID.total_seconds() // 60)
    if not SHORTEST_JOB <= minutes <= LONGEST_JOB or minutes % grid:
        raise InvalidArgument({field: f"must be {SHORTEST_JOB} to {LONGEST_JOB} minutes in steps of {grid}"})
    return minutes


def check_skill(skill: str, field: str) -> str:
    if skill not in SKILLS:
        raise InvalidArgument({field: f"must be one of {', '.join(sorted(SKILLS))}"})
    return skill


def check_skills(skills: list[str], field: str = "mechanic.skills") -> list[str]:
    if not skills:
        raise InvalidArgument({field: "name at least one skill"})
    for skill in skills:
        check_skill(skill, field)
    return sorted(set(skills))


def check_amount(amount: Decimal, field: str) -> Decimal:
    if amount < 0:
        raise InvalidArgument({field: "must not be negative"})
    return amount
