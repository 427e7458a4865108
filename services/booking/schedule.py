"""When a mechanic can take a job: the free slots of a branch, and whether a requested booking
keeps to working hours and days off. Pure functions of their inputs: no clock, no I/O.

- Time zones: a branch's working hours and days off are in its local time (an IANA zone); every
  moment going in must be aware, and every moment coming out is UTC. A working interval runs from
  the first moment the branch's clock shows its opening time that day to the first moment it shows
  its closing time; a time the clocks skip (spring forward) counts from the moment they jump past
  it. Durations are real time: a 60-minute job takes 60 minutes across a change of the clocks.
- Grid: a job starts on the 15-minute grid of the branch's clock (:00, :15, :30, :45 local time;
  another grid must divide a day). Its end need not be on the grid.
- Intervals are half-open, [start, end): a job may start exactly when another ends.
- A mechanic works a job only on a day that is off neither for the branch nor for them, wholly
  inside one of that day's working intervals (their own hours when they have them, else the
  branch's), and with the skill the job needs. The day is the local date the job starts on.
- Choice of mechanic: when several could take a slot, the one with the fewest busy minutes that
  local day, ties by id, so the same inputs always give the same answer.

Overlapping bookings are refused by the database (an exclusion constraint), not here: free_slots
only avoids the busy intervals it is given, and check_booking does not look at them.
"""
import bisect
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from services.kit.errors import InvalidArgument

UTC = timezone.utc
GRID = timedelta(minutes=15)
DAY = timedelta(days=1)
SECOND = timedelta(seconds=1)
MINUTE = timedelta(minutes=1)
SKILLS = frozenset({"maintenance", "repair", "diagnostics", "tyres", "bodywork"})
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
TEST_DRIVE_SHORTEST = timedelta(minutes=30)
TEST_DRIVE_LONGEST = timedelta(minutes=60)
TEST_DRIVE_STEP = timedelta(minutes=15)
# Any local midnight: grid lines are counted from it, which is the same as from each day's
# midnight because a grid divides a day.
_WALL_ORIGIN = datetime(2000, 1, 1)

# A day's working intervals: (open, close) in local time, in time order.
Intervals = tuple[tuple[time, time], ...]


@dataclass(frozen=True)
class WorkingHours:
    """A week of local working intervals; a day with none is closed. Each interval lies within
    its day (opens before it closes) and closes before the next one opens."""
    monday: Intervals = ()
    tuesday: Intervals = ()
    wednesday: Intervals = ()
    thursday: Intervals = ()
    friday: Intervals = ()
    saturday: Intervals = ()
    sunday: Intervals = ()

    def __post_init__(self):
        for weekday in WEEKDAYS:
            previous_close = None
            for opens, closes in getattr(self, weekday):
                if not opens < closes:
                    raise ValueError(f"{weekday}: {opens:%H:%M} must be before {closes:%H:%M}")
                # Touching intervals would be one interval a job could not straddle: write one.
                if previous_close is not None and not previous_close < opens:
                    raise ValueError(f"{weekday}: an interval from {opens:%H:%M} must start after the one "
                                     f"before it closes at {previous_close:%H:%M}")
                previous_close = closes

    def on(self, day: date) -> Intervals:
        return getattr(self, WEEKDAYS[day.weekday()])


@dataclass(frozen=True)
class Branch:
    """A workshop: its clock, its week and the dates it is closed."""
    zone: ZoneInfo
    hours: WorkingHours
    # Local dates the whole branch is closed (holidays).
    days_off: frozenset[date] = frozenset()


@dataclass(frozen=True)
class Mechanic:
    id: str
    skills: frozenset[str]
    days_off: frozenset[date] = frozenset()
    # Their own week, replacing the branch's; the branch's days off still apply.
    hours: WorkingHours | None = None

    def __post_init__(self):
        if not self.skills <= SKILLS:
            raise ValueError(f"mechanic {self.id}: unknown skills {sorted(self.skills - SKILLS)}")


@dataclass(frozen=True)
class JobType:
    code: str
    duration: timedelta
    skill: str

    def __post_init__(self):
        if self.duration <= timedelta(0):
            raise ValueError(f"job type {self.code}: the duration must be more than 0")
        if self.skill not in SKILLS:
            raise ValueError(f"job type {self.code}: unknown skill {self.skill!r}")


@dataclass(frozen=True)
class Busy:
    """A time the mechanic is already taken (a booking, in UTC)."""
    mechanic: str
    start: datetime
    end: datetime

    def __post_init__(self):
        _utc(self.start, "a busy interval's start")
        _utc(self.end, "a busy interval's end")
        if not self.start < self.end:
            raise ValueError(f"busy interval of {self.mechanic}: the start must be before the end")


@dataclass(frozen=True)
class Slot:
    start: datetime
    end: datetime
    mechanic: str


def free_slots(branch: Branch, mechanics: Iterable[Mechanic], job_type: JobType, busy: Iterable[Busy],
               start: datetime, end: datetime, grid: timedelta = GRID) -> list[Slot]:
    """Every grid start in [start, end) at which a mechanic with the skill can take the whole
    job, in time order, each with the mechanic who would. For the choice between mechanics to
    weigh whole days, `busy` should cover the local days that [start, end) touches."""
    _check_grid(grid)
    start, end = _utc(start, "start"), _utc(end, "end")
    mechanics = list(mechanics)
    if len({mechanic.id for mechanic in mechanics}) < len(mechanics):
        raise ValueError("each mechanic must be given once")
    timelines = _timelines(busy)
    zone = branch.zone
    # A working interval's moments all show its own local date, so these days hold every slot.
    first_day = start.astimezone(zone).date()
    days = [first_day + DAY * offset for offset in range((end.astimezone(zone).date() - first_day).days + 1)]
    chosen: dict[datetime, tuple[timedelta, str]] = {}
    # Most mechanics keep the branch's hours: each week's day is turned into moments once.
    moments: dict[tuple[WorkingHours, date], list[tuple[datetime, datetime]]] = {}
    for mechanic in mechanics:
        if job_type.skill not in mechanic.skills:
            continue
        timeline = timelines.get(mechanic.id, _EMPTY)
        for day in days:
            if _day_off_reason(branch, mechanic, day):
                continue
            week = _hours(branch, mechanic)
            if (week, day) not in moments:
                moments[week, day] = _working_intervals(branch, mechanic, day)
            intervals = moments[week, day]
            if not intervals:
                continue
            candidate = (timeline.busy_within(_moment(day, time(0), zone), _moment(day + DAY, time(0), zone)),
                         mechanic.id)
            for opens, closes in intervals:
                for free_from, free_until in timeline.free_within(opens, closes):
                    for moment in _grid_starts(max(free_from, start), free_until - job_type.duration, zone, grid):
                        if moment >= end:
                            break
                        if moment not in chosen or candidate < chosen[moment]:
                            chosen[moment] = candidate
    return [Slot(moment, moment + job_type.duration, chosen[moment][1]) for moment in sorted(chosen)]


def check_booking(branch: Branch, mechanic: Mechanic, job_type: JobType, start: datetime,
                  grid: timedelta = GRID, prefix: str = "") -> None:
    """InvalidArgument naming what keeps `mechanic` from taking `job_type` at `start`: a missing
    skill (`<prefix>mechanic`), and a start off the grid, on a day off or outside their hours that
    day (`<prefix>start_time`). Whether they are already busy then is the database's to say."""
    _check_grid(grid)
    start = _utc(start, "start")
    problems = []
    if job_type.skill not in mechanic.skills:
        problems.append((f"{prefix}mechanic", f"{mechanic.id} does not do {job_type.skill} "
                                              f"(their skills: {', '.join(sorted(mechanic.skills)) or 'none'})"))
    reason = _start_problem(branch, mechanic, job_type, start, grid)
    if reason:
        problems.append((f"{prefix}start_time", reason))
    if problems:
        raise InvalidArgument(problems)


def check_test_drive(duration: timedelta) -> None:
    """InvalidArgument on `duration_minutes` unless the drive is 30, 45 or 60 minutes."""
    if not (TEST_DRIVE_SHORTEST <= duration <= TEST_DRIVE_LONGEST and duration % TEST_DRIVE_STEP == timedelta(0)):
        raise InvalidArgument({"duration_minutes": f"must be {_minutes(TEST_DRIVE_SHORTEST)} to "
                                                   f"{_minutes(TEST_DRIVE_LONGEST)} minutes in steps of "
                                                   f"{_minutes(TEST_DRIVE_STEP)}"})


def check_test_drive_time(branch: Branch, start: datetime, duration: timedelta, grid: timedelta = GRID) -> None:
    """InvalidArgument on `start_time` unless a drive of `duration` from `start` lies within the
    branch's opening hours on a day it is open, starting on its grid (someone hands the keys over)."""
    _check_grid(grid)
    reason = _start_problem(branch, _THE_BRANCH, JobType("test drive", duration, "maintenance"),
                            _utc(start, "start"), grid)
    if reason:
        raise InvalidArgument({"start_time": reason})


# Whose hours a test drive keeps: the branch's own.
_THE_BRANCH = Mechanic("the branch", SKILLS)


def _start_problem(branch: Branch, mechanic: Mechanic, job_type: JobType, start: datetime,
                   grid: timedelta) -> str:
    zone = branch.zone
    local = start.astimezone(zone)
    if _behind_grid(start, zone, grid):
        return (f"must be on the {_minutes(grid)}-minute grid of the branch's clock ({zone.key}); "
                f"{local:%H:%M:%S} is not")
    day = local.date()
    reason = _day_off_reason(branch, mechanic, day)
    if reason:
        return reason
    finish = start + job_type.duration
    if any(opens <= start and finish <= closes for opens, closes in _working_intervals(branch, mechanic, day)):
        return ""
    hours = ", ".join(f"{opens:%H:%M}–{closes:%H:%M}" for opens, closes in _hours(branch, mechanic).on(day))
    return (f"a {_minutes(job_type.duration)}-minute {job_type.code} job from {local:%H:%M} is outside "
            f"{mechanic.id}'s working hours on {WEEKDAYS[day.weekday()].capitalize()} {day.isoformat()}: "
            f"{hours or 'none, not a working day'} ({zone.key} time)")


def _hours(branch: Branch, mechanic: Mechanic) -> WorkingHours:
    return branch.hours if mechanic.hours is None else mechanic.hours


def _day_off_reason(branch: Branch, mechanic: Mechanic, day: date) -> str:
    named = f"{day.isoformat()} ({WEEKDAYS[day.weekday()].capitalize()})"
    if day in branch.days_off:
        return f"{named} is a day off at the branch"
    if day in mechanic.days_off:
        return f"{named} is {mechanic.id}'s day off"
    return ""


def _working_intervals(branch: Branch, mechanic: Mechanic, day: date) -> list[tuple[datetime, datetime]]:
    """The mechanic's working intervals on local `day`, in UTC (days off aside)."""
    return [(_moment(day, opens, branch.zone), _moment(day, closes, branch.zone))
            for opens, closes in _hours(branch, mechanic).on(day)]


def _moment(day: date, wall: time, zone: ZoneInfo) -> datetime:
    """The first moment (UTC) the clock in `zone` shows `wall` on `day`, or, when the clocks skip
    it, the moment they jump past it."""
    reading = datetime.combine(day, wall)
    moment = reading.replace(tzinfo=zone).astimezone(UTC)
    if moment.astimezone(zone).replace(tzinfo=None) == reading:
        return moment
    # Skipped: fold=0 (above) read it with the offset before the jump, which lands after the
    # jump; fold=1 reads it with the offset after, which lands before. Find the jump between.
    before = reading.replace(tzinfo=zone, fold=1).astimezone(UTC)
    low, high = 0, int((moment - before) / SECOND)
    while high - low > 1:
        middle = (low + high) // 2
        if (before + middle * SECOND).astimezone(zone).replace(tzinfo=None) < reading:
            low = middle
        else:
            high = middle
    return before + high * SECOND


def _behind_grid(moment: datetime, zone: ZoneInfo, grid: timedelta) -> timedelta:
    """How far the clock in `zone` at `moment` is past its last grid line."""
    return (moment.astimezone(zone).replace(tzinfo=None) - _WALL_ORIGIN) % grid


def _grid_starts(first: datetime, last: datetime, zone: ZoneInfo, grid: timedelta) -> Iterator[datetime]:
    """Every moment from `first` to `last` (inclusive) at which the clock in `zone` is on the grid."""
    if first > last:
        return
    if first.astimezone(zone).utcoffset() == last.astimezone(zone).utcoffset():
        # The clocks do not change in between (a working interval holds one change at most), so
        # once on the grid every step of it stays there: no time zone arithmetic a step.
        behind = _behind_grid(first, zone, grid)
        moment = first + (grid - behind if behind else timedelta(0))
        while moment <= last:
            yield moment
            moment += grid
        return
    moment = first
    while moment <= last:
        behind = _behind_grid(moment, zone, grid)
        if behind:
            # Onto the next grid line, checked again: the clocks may have changed on the way.
            moment += grid - behind
        else:
            yield moment
            moment += grid


class _Timeline:
    """One mechanic's busy time as disjoint intervals in time order (overlapping ones merged),
    so that a bisect finds the first one to look at and a walk ends at the first one past."""

    def __init__(self, intervals: list[tuple[datetime, datetime]]):
        merged: list[tuple[datetime, datetime]] = []
        for start, end in sorted(intervals):
            if merged and start <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], end))
            else:
                merged.append((start, end))
        self.intervals = merged
        self.ends = [end for _, end in merged]

    def _overlapping(self, start: datetime, end: datetime) -> Iterator[tuple[datetime, datetime]]:
        # The first interval ending after `start`; one ending exactly at it does not overlap.
        for index in range(bisect.bisect_right(self.ends, start), len(self.intervals)):
            interval = self.intervals[index]
            if interval[0] >= end:
                return
            yield interval

    def free_within(self, start: datetime, end: datetime) -> Iterator[tuple[datetime, datetime]]:
        """The free parts of [start, end), in time order."""
        free_from = start
        for busy_start, busy_end in self._overlapping(start, end):
            if free_from < busy_start:
                yield free_from, busy_start
            free_from = max(free_from, busy_end)
        if free_from < end:
            yield free_from, end

    def busy_within(self, start: datetime, end: datetime) -> timedelta:
        return sum((min(busy_end, end) - max(busy_start, start)
                    for busy_start, busy_end in self._overlapping(start, end)), timedelta(0))


_EMPTY = _Timeline([])


def _timelines(busy: Iterable[Busy]) -> dict[str, _Timeline]:
    intervals: dict[str, list[tuple[datetime, datetime]]] = {}
    for taken in busy:
        intervals.setdefault(taken.mechanic, []).append((_utc(taken.start, "start"), _utc(taken.end, "end")))
    return {mechanic: _Timeline(spans) for mechanic, spans in intervals.items()}


def _utc(moment: datetime, what: str) -> datetime:
    if moment.tzinfo is UTC:
        return moment
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{what} must carry its time zone")
    return moment.astimezone(UTC)


def _check_grid(grid: timedelta) -> None:
    if not (timedelta(0) < grid and grid % MINUTE == DAY % grid == timedelta(0)):
        raise ValueError("the grid must be whole minutes that divide a day")


def _minutes(span: timedelta) -> int:
    return int(span // MINUTE)
