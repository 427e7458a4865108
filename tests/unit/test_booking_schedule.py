"""booking's schedule (services/booking/schedule.py): free slots on working hours, days off, busy
time and skills, across changes of the clocks; the checks on a requested booking and a test drive;
and hypothesis properties against a brute-force reference."""
import functools
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.booking import schedule
from services.kit.errors import InvalidArgument

UTC = timezone.utc
MOSCOW = ZoneInfo("Europe/Moscow")
BERLIN = ZoneInfo("Europe/Berlin")
MONDAY = date(2026, 3, 9)
NINE_TO_SIX = ((time(9), time(18)),)
WITH_LUNCH = ((time(9), time(13)), (time(14), time(18)))
MINUTE = timedelta(minutes=1)
SERVICE = schedule.JobType("maintenance_60", timedelta(minutes=60), "maintenance")


def _week(intervals, days=schedule.WEEKDAYS) -> schedule.WorkingHours:
    return schedule.WorkingHours(**{day: intervals for day in days})


def _branch(intervals=NINE_TO_SIX, zone=MOSCOW, days_off=frozenset(), days=schedule.WEEKDAYS) -> schedule.Branch:
    return schedule.Branch(zone, _week(intervals, days), frozenset(days_off))


def _mechanic(id="m1", skills=("maintenance",), **changes) -> schedule.Mechanic:
    return schedule.Mechanic(id, frozenset(skills), **changes)


def _local(day: date, hour: int, minute: int = 0, zone=MOSCOW) -> datetime:
    return datetime.combine(day, time(hour, minute), zone).astimezone(UTC)


def _day(day: date, zone=MOSCOW) -> tuple[datetime, datetime]:
    return _local(day, 0, zone=zone), _local(day + timedelta(days=1), 0, zone=zone)


def _free(branch=None, mechanics=None, busy=(), day=MONDAY, grid=schedule.GRID) -> list[schedule.Slot]:
    """The slots of SERVICE over the whole local `day`: one mechanic m1 and a Moscow branch
    open 09:00–18:00 unless told."""
    branch = branch or _branch()
    return schedule.free_slots(branch, mechanics or [_mechanic()], SERVICE, busy, *_day(day, branch.zone), grid)


def _starts(slots, zone=MOSCOW) -> list[str]:
    return [f"{slot.start.astimezone(zone):%H:%M}" for slot in slots]


def _taken(slots) -> dict[str, str]:
    return {f"{slot.start.astimezone(MOSCOW):%H:%M}": slot.mechanic for slot in slots}


def _quarters(first: str, last: str) -> list[str]:
    """Local quarter hours from `first` to `last`, inclusive, as HH:MM."""
    moment, end, found = datetime.strptime(first, "%H:%M"), datetime.strptime(last, "%H:%M"), []
    while moment <= end:
        found.append(f"{moment:%H:%M}")
        moment += timedelta(minutes=15)
    return found


def _violations(call) -> list[tuple[str, str]]:
    with pytest.raises(InvalidArgument) as error:
        call()
    return error.value.violations


def _refusal(start: datetime, branch=None, mechanic=None) -> list[tuple[str, str]]:
    return _violations(lambda: schedule.check_booking(branch or _branch(), mechanic or _mechanic(), SERVICE, start))


def test_a_working_day_offers_every_quarter_hour_a_job_fits_in_utc():
    slots = _free()
    assert _starts(slots) == _quarters("09:00", "17:00")
    assert slots[0] == schedule.Slot(datetime(2026, 3, 9, 6, tzinfo=UTC), datetime(2026, 3, 9, 7, tzinfo=UTC), "m1")
    assert slots[-1].start == datetime(2026, 3, 9, 14, tzinfo=UTC)
    assert all(slot.start.tzinfo is UTC and slot.end - slot.start == SERVICE.duration for slot in slots)


def test_the_range_is_half_open_and_starts_on_the_next_grid_line():
    slots = schedule.free_slots(_branch(), [_mechanic()], SERVICE, [], _local(MONDAY, 10, 7), _local(MONDAY, 12))
    assert _starts(slots) == _quarters("10:15", "11:45")
    assert schedule.free_slots(_branch(), [_mechanic()], SERVICE, [], _local(MONDAY, 12), _local(MONDAY, 12)) == []


def test_no_slot_straddles_a_lunch_break():
    assert _starts(_free(_branch(WITH_LUNCH))) == _quarters("09:00", "12:00") + _quarters("14:00", "17:00")


def test_a_busy_hour_removes_exactly_the_starts_that_overlap_it():
    slots = _free(busy=[schedule.Busy("m1", _local(MONDAY, 11), _local(MONDAY, 12))])
    removed = set(_quarters("09:00", "17:00")) - set(_starts(slots))
    # 10:00 ends as the busy hour begins; 12:00 begins as it ends.
    assert sorted(removed) == _quarters("10:15", "11:45")
    assert {"10:00", "12:00"} <= set(_starts(slots))


def test_another_mechanics_busy_time_does_not_matter():
    slots = _free(busy=[schedule.Busy("m2", _local(MONDAY, 9), _local(MONDAY, 18))])
    assert _starts(slots) == _quarters("09:00", "17:00")


def test_days_off_of_the_branch_or_the_mechanic_and_closed_weekdays_give_no_slots():
    assert _free(_branch(days_off={MONDAY})) == []
    assert _free(mechanics=[_mechanic(days_off=frozenset({MONDAY}))]) == []
    assert _free(_branch(days=("tuesday",))) == []
    slots = _free(mechanics=[_mechanic("a", days_off=frozenset({MONDAY})), _mechanic("b")])
    assert len(slots) == 33 and {slot.mechanic for slot in slots} == {"b"}


def test_a_mechanic_without_the_skill_is_never_chosen():
    mechanics = [_mechanic("a", skills=("tyres", "bodywork")), _mechanic("b", skills=("maintenance", "repair"))]
    slots = _free(mechanics=mechanics, busy=[schedule.Busy("b", _local(MONDAY, 9), _local(MONDAY, 12))])
    assert {slot.mechanic for slot in slots} == {"b"}
    assert _starts(slots) == _quarters("12:00", "17:00")
    assert _free(mechanics=mechanics[:1]) == []


def test_the_least_loaded_mechanic_that_day_takes_the_slot_ties_by_id():
    sunday = MONDAY - timedelta(days=1)
    busy = [
        schedule.Busy("a", _local(MONDAY, 16), _local(MONDAY, 17)),
        schedule.Busy("b", _local(MONDAY, 9), _local(MONDAY, 9, 30)),
        # The day before does not count.
        schedule.Busy("b", _local(sunday, 9), _local(sunday, 18)),
    ]
    slots = _free(mechanics=[_mechanic("a"), _mechanic("b")], busy=busy)
    taken = _taken(slots)
    assert taken["09:00"] == "a"  # b is busy
    assert taken["10:00"] == "b"  # b has 30 busy minutes, a 60
    assert taken["16:00"] == "b"  # a is busy
    assert len(slots) == 33
    assert {slot.mechanic for slot in _free(mechanics=[_mechanic("b"), _mechanic("a")])} == {"a"}


def test_overlapping_busy_intervals_count_once_in_the_load():
    busy = [schedule.Busy("a", _local(MONDAY, 9), _local(MONDAY, 10)),
            schedule.Busy("a", _local(MONDAY, 9, 30), _local(MONDAY, 10)),
            schedule.Busy("b", _local(MONDAY, 15), _local(MONDAY, 16, 15))]
    taken = _taken(_free(mechanics=[_mechanic("a"), _mechanic("b")], busy=busy))
    assert taken["10:00"] == "a" and taken["09:00"] == "b"


def test_slots_of_several_mechanics_come_once_each_in_time_order():
    mechanics = [_mechanic("a", hours=_week(((time(9), time(12)),))),
                 _mechanic("b", hours=_week(((time(10), time(14)),)))]
    slots = _free(mechanics=mechanics)
    assert _starts(slots) == _quarters("09:00", "13:00")
    assert _taken(slots)["12:00"] == "b"


def test_a_mechanics_own_hours_replace_the_branchs_but_not_its_days_off():
    saturday = MONDAY + timedelta(days=5)
    mechanic = _mechanic(hours=schedule.WorkingHours(monday=((time(12), time(16)),), saturday=((time(10), time(12)),)))
    assert _starts(_free(mechanics=[mechanic])) == _quarters("12:00", "15:00")
    weekdays = _branch(days=schedule.WEEKDAYS[:5])
    assert _starts(_free(weekdays, [mechanic], day=saturday)) == _quarters("10:00", "11:00")
    assert _free(_branch(days=schedule.WEEKDAYS[:5], days_off={saturday}), [mechanic], day=saturday) == []


@pytest.mark.parametrize("day, opening_utc", [
    (date(2026, 3, 28), 8), (date(2026, 3, 29), 7),     # CET, then CEST from the last Sunday of March
    (date(2026, 10, 24), 7), (date(2026, 10, 25), 8),   # CEST, then CET from the last Sunday of October
])
def test_local_working_hours_hold_across_a_change_of_the_clocks(day, opening_utc):
    slots = _free(_branch(zone=BERLIN), day=day)
    assert _starts(slots, BERLIN) == _quarters("09:00", "17:00")
    assert slots[0].start == datetime.combine(day, time(opening_utc), UTC)


def test_a_night_the_clocks_spring_forward_is_an_hour_shorter():
    # 29 March 2026 in Berlin: 02:00 CET becomes 03:00 CEST at 01:00 UTC.
    night = date(2026, 3, 29)
    slots = _free(_branch(((time(1), time(5)),), BERLIN), day=night)
    assert _starts(slots, BERLIN) == _quarters("01:00", "01:45") + _quarters("03:00", "04:00")
    # A 60-minute job from 01:30 CET ends at 03:30 CEST: sixty real minutes.
    assert slots[2].end - slots[2].start == timedelta(minutes=60)
    # An opening time the clocks skip counts from the jump.
    skipped = _free(_branch(((time(2, 30), time(5)),), BERLIN), day=night)
    assert skipped[0].start == datetime(2026, 3, 29, 1, tzinfo=UTC)
    assert _starts(skipped, BERLIN) == _quarters("03:00", "04:00")


def test_a_night_the_clocks_go_back_is_an_hour_longer():
    # 25 October 2026 in Berlin: 03:00 CEST becomes 02:00 CET at 01:00 UTC.
    slots = _free(_branch(((time(1), time(4)),), BERLIN), day=date(2026, 10, 25))
    assert _starts(slots, BERLIN) == _quarters("01:00", "02:45") + _quarters("02:00", "03:00")
    assert slots[0].start == datetime(2026, 10, 24, 23, tzinfo=UTC)
    assert slots[-1].end == datetime(2026, 10, 25, 3, tzinfo=UTC)


def test_the_grid_is_the_branchs_clock_not_utcs():
    kathmandu = ZoneInfo("Asia/Kathmandu")  # UTC+05:45
    slots = _free(_branch(zone=kathmandu), grid=timedelta(hours=1))
    assert _starts(slots, kathmandu) == [f"{hour:02}:00" for hour in range(9, 18)]
    assert slots[0].start == datetime(2026, 3, 9, 3, 15, tzinfo=UTC)


def test_the_grid_follows_the_clock_when_it_moves_by_less_than_a_grid_step():
    # 5 April 2026 on Lord Howe Island: 02:00 (UTC+11) becomes 01:30 (UTC+10:30) at 15:00 UTC.
    lord_howe = ZoneInfo("Australia/Lord_Howe")
    slots = _free(_branch(((time(0), time(6)),), lord_howe), day=date(2026, 4, 5), grid=timedelta(hours=1))
    assert _starts(slots, lord_howe) == ["00:00", "01:00", "02:00", "03:00", "04:00", "05:00"]
    assert [slot.start.minute for slot in slots] == [0, 0, 30, 30, 30, 30]


def test_a_booking_within_hours_on_the_grid_by_a_skilled_mechanic_passes():
    assert schedule.check_booking(_branch(WITH_LUNCH), _mechanic(), SERVICE, _local(MONDAY, 12)) is None
    assert schedule.check_booking(_branch(), _mechanic(), SERVICE, _local(MONDAY, 17)) is None


def test_a_booking_off_the_grid_is_refused_with_the_grid():
    assert _refusal(_local(MONDAY, 10, 7)) == [
        ("start_time", "must be on the 15-minute grid of the branch's clock (Europe/Moscow); 10:07:00 is not")]


def test_a_booking_outside_hours_is_refused_with_that_days_hours():
    assert _refusal(_local(MONDAY, 12, 30), _branch(WITH_LUNCH)) == [
        ("start_time", "a 60-minute maintenance_60 job from 12:30 is outside m1's working hours on "
                       "Monday 2026-03-09: 09:00–13:00, 14:00–18:00 (Europe/Moscow time)")]
    assert _refusal(_local(MONDAY - timedelta(days=1), 10), _branch(days=schedule.WEEKDAYS[:6])) == [
        ("start_time", "a 60-minute maintenance_60 job from 10:00 is outside m1's working hours on "
                       "Sunday 2026-03-08: none, not a working day (Europe/Moscow time)")]
    own_hours = _mechanic(hours=_week(((time(12), time(16)),)))
    assert "Monday 2026-03-09: 12:00–16:00 " in _refusal(_local(MONDAY, 9), mechanic=own_hours)[0][1]


def test_a_booking_on_a_day_off_says_whose():
    assert _refusal(_local(MONDAY, 10), _branch(days_off={MONDAY})) == [
        ("start_time", "2026-03-09 (Monday) is a day off at the branch")]
    assert _refusal(_local(MONDAY, 10), mechanic=_mechanic(days_off=frozenset({MONDAY}))) == [
        ("start_time", "2026-03-09 (Monday) is m1's day off")]


def test_a_mechanic_without_the_skill_is_named_with_every_other_problem():
    problems = _refusal(_local(MONDAY, 20), mechanic=_mechanic(skills=("tyres", "repair")))
    assert problems[0] == ("mechanic", "m1 does not do maintenance (their skills: repair, tyres)")
    assert [field for field, _ in problems] == ["mechanic", "start_time"]


@pytest.mark.parametrize("minutes", [30, 45, 60])
def test_a_test_drive_lasts_30_to_60_minutes(minutes):
    assert schedule.check_test_drive(timedelta(minutes=minutes)) is None


@pytest.mark.parametrize("duration", [timedelta(0), timedelta(minutes=15), timedelta(minutes=29),
                                      timedelta(minutes=40), timedelta(minutes=30, seconds=1), timedelta(minutes=75)])
def test_other_test_drive_lengths_are_refused(duration):
    assert _violations(lambda: schedule.check_test_drive(duration)) == [
        ("duration_minutes", "must be 30 to 60 minutes in steps of 15")]


@pytest.mark.parametrize("make", [
    lambda: _week(((time(18), time(9)),)),
    lambda: _week(((time(9), time(13)), (time(12), time(18)))),
    lambda: _week(((time(9), time(13)), (time(13), time(18)))),
    lambda: _mechanic(skills=("welding",)),
    lambda: schedule.JobType("x", timedelta(0), "repair"),
    lambda: schedule.JobType("x", timedelta(minutes=30), "welding"),
    lambda: schedule.Busy("m1", datetime(2026, 3, 9, 10), datetime(2026, 3, 9, 11)),
    lambda: schedule.Busy("m1", _local(MONDAY, 11), _local(MONDAY, 11)),
    lambda: schedule.free_slots(_branch(), [_mechanic()], SERVICE, [], datetime(2026, 3, 9), datetime(2026, 3, 10)),
    lambda: _free(mechanics=[_mechanic(), _mechanic()]),
    lambda: _free(grid=timedelta(minutes=7)),
    lambda: _free(grid=timedelta(seconds=90)),
    lambda: schedule.check_booking(_branch(), _mechanic(), SERVICE, datetime(2026, 3, 9, 10)),
])
def test_nonsense_is_refused(make):
    with pytest.raises(ValueError):
        make()


# Properties, against a brute-force reference. The zones change their clocks in the windows
# drawn (Lord Howe by half an hour), and Kathmandu's offset is off an hourly grid.
ZONES = [ZoneInfo(key) for key in ("Europe/Moscow", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe",
                                   "Asia/Kathmandu")]
FIRST_DAYS = [date(2026, 3, 7), date(2026, 3, 28), date(2026, 4, 4), date(2026, 6, 15), date(2026, 10, 3),
              date(2026, 10, 24), date(2026, 10, 31)]
SOME_SKILLS = ["maintenance", "repair", "tyres"]


def _intervals(points: list[int]) -> schedule.Intervals:
    """Distinct quarter hours in order, paired: each interval opens before it closes and after
    the one before it closes."""
    points = sorted(points)[:len(points) // 2 * 2]
    return tuple((time(*divmod(opens * 15, 60)), time(*divmod(closes * 15, 60)))
                 for opens, closes in zip(points[::2], points[1::2]))


# Strategies made once: making them in every draw would cost more than the tests.
# Usual days, and any quarter hours of the day (sampled: integers would favour the small ones).
WORKING_DAYS = st.sampled_from([NINE_TO_SIX, WITH_LUNCH]) | st.lists(
    st.sampled_from(range(96)), unique=True, min_size=2, max_size=4).map(_intervals)
# Three working days to each closed one.
WEEKS = st.builds(schedule.WorkingHours, *[st.one_of(WORKING_DAYS, WORKING_DAYS, WORKING_DAYS, st.just(()))
                                          for _ in schedule.WEEKDAYS])
OWN_WEEKS = st.none() | WEEKS
DAYS_OFF = st.frozensets(st.integers(-1, 4), max_size=2)
MECHANIC_SKILLS = st.frozensets(st.sampled_from(SOME_SKILLS), min_size=1)
# (mechanic, start in five minutes from the first day's UTC midnight, length in five minutes):
# on UTC's five-minute grid, so that the reference can count busy time five minutes at a time.
BUSY = st.lists(st.tuples(st.integers(0, 3), st.integers(-288, 5 * 288), st.integers(1, 60)), max_size=25)
GRIDS = st.sampled_from([timedelta(minutes=15), timedelta(minutes=30), timedelta(hours=1)])


@st.composite
def scenarios(draw):
    zone, first_day = draw(st.sampled_from(ZONES)), draw(st.sampled_from(FIRST_DAYS))
    midnight = datetime.combine(first_day, time(0), UTC)

    def days_off() -> frozenset[date]:
        return frozenset(first_day + timedelta(days=offset) for offset in draw(DAYS_OFF))

    branch = schedule.Branch(zone, draw(WEEKS), days_off())
    mechanics = [schedule.Mechanic(f"m{number}", draw(MECHANIC_SKILLS), days_off(), draw(OWN_WEEKS))
                 for number in range(draw(st.sampled_from([1, 2, 3, 4])))]
    job = schedule.JobType("job", timedelta(minutes=draw(st.integers(1, 30)) * 5),
                           draw(st.sampled_from(SOME_SKILLS[:2])))
    start = midnight + draw(st.sampled_from(range(2 * 96))) * 15 * MINUTE + draw(st.integers(0, 14)) * MINUTE
    end = start + draw(st.sampled_from(range(24, 3 * 96))) * 15 * MINUTE
    busy = [schedule.Busy(mechanics[number % len(mechanics)].id, midnight + begins * 5 * MINUTE,
                          midnight + (begins + length) * 5 * MINUTE)
            for number, begins, length in draw(BUSY)]
    return branch, mechanics, job, busy, start, end, draw(GRIDS)


@functools.lru_cache(maxsize=None)
def first_reading(day: date, wall: time, zone: ZoneInfo) -> datetime:
    """The first moment the clock in `zone` reads (`day`, `wall`) or later, found by walking the
    quarter hours (every change of the clocks in ZONES falls on one, as do the walls drawn)."""
    wanted = datetime.combine(day, wall)
    moment = wanted.replace(tzinfo=UTC) - timedelta(hours=15)
    while moment.astimezone(zone).replace(tzinfo=None) < wanted:
        moment += timedelta(minutes=15)
    return moment


def works(branch, mechanic, job, start) -> bool:
    day = start.astimezone(branch.zone).date()
    hours = branch.hours if mechanic.hours is None else mechanic.hours
    return (job.skill in mechanic.skills and day not in branch.days_off and day not in mechanic.days_off
            and any(first_reading(day, opens, branch.zone) <= start
                    and start + job.duration <= first_reading(day, closes, branch.zone)
                    for opens, closes in hours.on(day)))


def overlaps(busy, mechanic_id, start, end) -> bool:
    return any(taken.mechanic == mechanic_id and taken.start < end and start < taken.end for taken in busy)


def busy_minutes(busy, mechanic_id, day, zone) -> timedelta:
    """How much of local `day` the mechanic is busy, counting overlapping intervals once."""
    day_start, day_end = first_reading(day, time(0), zone), first_reading(day + timedelta(days=1), time(0), zone)
    minute, total = day_start, timedelta(0)
    while minute < day_end:
        if overlaps(busy, mechanic_id, minute, minute + 5 * MINUTE):
            total += 5 * MINUTE
        minute += 5 * MINUTE
    return total


def reference(branch, mechanics, job, busy, start, end, grid) -> list[schedule.Slot]:
    """Every quarter hour of UTC in [start, end) that is on the branch's grid (the offsets of
    ZONES are whole quarter hours), with the least loaded free skilled mechanic, by brute force."""
    slots, loads = [], {}
    moment = start + (datetime.min.replace(tzinfo=UTC) - start) % timedelta(minutes=15)
    while moment < end:
        local = moment.astimezone(branch.zone)
        if (local.hour * 60 + local.minute) % (grid // MINUTE) == 0:
            free = [mechanic for mechanic in mechanics if works(branch, mechanic, job, moment)
                    and not overlaps(busy, mechanic.id, moment, moment + job.duration)]
            if free:
                for mechanic in free:
                    if (mechanic.id, local.date()) not in loads:
                        loads[mechanic.id, local.date()] = busy_minutes(busy, mechanic.id, local.date(), branch.zone)
                chosen = min(free, key=lambda mechanic: (loads[mechanic.id, local.date()], mechanic.id))
                slots.append(schedule.Slot(moment, moment + job.duration, chosen.id))
        moment += timedelta(minutes=15)
    return slots


@settings(max_examples=100, deadline=None)
@given(scenarios())
def test_no_slot_is_busy_outside_hours_unskilled_or_repeated(scenario):
    branch, mechanics, job, busy, start, end, grid = scenario
    slots = schedule.free_slots(branch, mechanics, job, busy, start, end, grid)
    by_id = {mechanic.id: mechanic for mechanic in mechanics}
    for slot in slots:
        assert start <= slot.start < end and slot.end == slot.start + job.duration
        local = slot.start.astimezone(branch.zone)
        assert slot.start.tzinfo is UTC and (local - local.replace(hour=0, minute=0, second=0)) % grid == timedelta(0)
        assert not overlaps(busy, slot.mechanic, slot.start, slot.end)
        assert works(branch, by_id[slot.mechanic], job, slot.start)
    assert [slot.start for slot in slots] == sorted({slot.start for slot in slots})


@settings(max_examples=100, deadline=None)
@given(scenarios())
def test_every_free_start_appears_with_the_least_loaded_mechanic(scenario):
    assert schedule.free_slots(*scenario) == reference(*scenario)


def test_a_booking_problem_names_the_requests_fields():
    problems = _violations(lambda: schedule.check_booking(
        _branch(), _mechanic(skills={"tyres"}), SERVICE, _local(MONDAY, 7), prefix="booking."))
    assert [field for field, _ in problems] == ["booking.mechanic", "booking.start_time"]


def test_a_test_drive_keeps_to_the_branchs_opening_hours():
    weekdays_only = _branch(days=schedule.WEEKDAYS[:5])
    sunday = MONDAY + timedelta(days=6)
    assert schedule.check_test_drive_time(weekdays_only, _local(MONDAY, 10), timedelta(minutes=45)) is None
    for start, duration in ((_local(MONDAY, 7), timedelta(minutes=30)), (_local(MONDAY, 17, 45), timedelta(minutes=30)),
                            (_local(sunday, 11), timedelta(minutes=30)), (_local(MONDAY, 10, 7), timedelta(minutes=30))):
        [(field, reason)] = _violations(lambda: schedule.check_test_drive_time(weekdays_only, start, duration))
        assert field == "start_time" and reason
