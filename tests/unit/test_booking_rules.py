"""booking's rules beyond the schedule: the moves of a booking, job types, and the weeks and days
off a mechanic is given."""
import datetime
from decimal import Decimal

import pytest
from hypothesis import given, strategies as st

from autosalon.booking.v1 import booking_pb2
from autosalon.config.v1 import config_pb2
from services.booking import convert, domain
from services.kit.errors import FailedPrecondition, InvalidArgument
from services.kit.protos import slug_of
from services.kit.texts import check_text


def _fields(error: InvalidArgument) -> set[str]:
    return {field for field, _ in error.violations}


@pytest.mark.parametrize("current, wanted", [
    (domain.SCHEDULED, domain.IN_PROGRESS), (domain.SCHEDULED, domain.CANCELLED),
    (domain.IN_PROGRESS, domain.COMPLETED), (domain.IN_PROGRESS, domain.CANCELLED)])
def test_the_moves_a_booking_may_make(current, wanted):
    domain.check_move(current, wanted)


@pytest.mark.parametrize("current, wanted", [
    (domain.SCHEDULED, domain.COMPLETED), (domain.COMPLETED, domain.CANCELLED), (domain.CANCELLED, domain.SCHEDULED),
    (domain.CANCELLED, domain.IN_PROGRESS), (domain.IN_PROGRESS, domain.SCHEDULED)])
def test_an_illegal_move_names_the_current_status_and_the_wanted_one(current, wanted):
    with pytest.raises(FailedPrecondition) as refused:
        domain.check_move(current, wanted)
    assert current in refused.value.message and wanted in refused.value.message


def test_every_move_but_back_to_scheduled_is_announced():
    assert set(domain.EVENTS) == {target for targets in domain.MOVES.values() for target in targets}


@pytest.mark.parametrize("name, collection, expected", [
    ("branches/moscow-central", "branches", "moscow-central"), ("job-types/oil-change", "job-types", "oil-change")])
def test_ids_are_read_from_their_names(name, collection, expected):
    assert slug_of(name, collection, "field") == expected


@pytest.mark.parametrize("name", ["branches/", "branch/x1", "branches/Moscow", "branches/-a", "branches/a/b", ""])
def test_a_malformed_name_is_refused_on_its_field(name):
    with pytest.raises(InvalidArgument) as refused:
        slug_of(name, "branches", "booking.branch")
    assert _fields(refused.value) == {"booking.branch"}


@given(st.integers(min_value=-100, max_value=1000))
def test_a_job_lasts_15_to_480_minutes_on_the_grid(minutes):
    if 15 <= minutes <= 480 and minutes % 15 == 0:
        assert domain.check_duration(minutes) == minutes
    else:
        with pytest.raises(InvalidArgument) as refused:
            domain.check_duration(minutes)
        assert "15 to 480" in refused.value.violations[0][1]


def test_skills_are_known_distinct_and_at_least_one():
    assert domain.check_skills(["repair", "tyres", "repair"]) == ["repair", "tyres"]
    for wrong in ([], ["welding"]):
        with pytest.raises(InvalidArgument) as refused:
            domain.check_skills(wrong)
        assert _fields(refused.value) == {"mechanic.skills"}


def test_texts_are_trimmed_bounded_and_required_when_said():
    assert check_text("  oil  ", "notes", 10) == "oil" and check_text("   ", "notes", 10) == ""
    with pytest.raises(InvalidArgument):
        check_text("x" * 11, "notes", 10)
    with pytest.raises(InvalidArgument):
        check_text("   ", "reason", 10, required=True)


def test_negative_amounts_are_refused():
    assert domain.check_amount(Decimal("0.00"), "parts") == Decimal("0.00")
    with pytest.raises(InvalidArgument):
        domain.check_amount(Decimal("-0.01"), "parts")


def _hours(*spans):
    return [booking_pb2.WorkingHours(weekday=day, start=start, end=end) for day, start, end in spans]


def test_a_mechanics_week_is_stored_sorted():
    stored = convert.hours_json(_hours((2, "14:00", "18:00"), (1, "09:00", "13:00"), (2, "09:00", "13:00")))
    assert stored == [{"weekday": 1, "start": "09:00", "end": "13:00"}, {"weekday": 2, "start": "09:00", "end": "13:00"},
                      {"weekday": 2, "start": "14:00", "end": "18:00"}]


@pytest.mark.parametrize("spans, field", [
    (((8, "09:00", "13:00"),), "mechanic.hours"),
    (((1, "13:00", "09:00"),), "mechanic.hours"),
    (((1, "09:00", "13:00"), (1, "13:00", "18:00")), "mechanic.hours"),
    (((1, "09:00", "13:00"), (1, "12:00", "18:00")), "mechanic.hours"),
    (((1, "9:00", "13:00"),), "mechanic.hours[0].start"),
    (((1, "09:00", "25:00"),), "mechanic.hours[0].end"),
])
def test_a_week_that_cannot_be_worked_is_refused_on_its_field(spans, field):
    with pytest.raises(InvalidArgument) as refused:
        convert.hours_json(_hours(*spans))
    assert _fields(refused.value) == {field}


def test_days_off_are_dates_kept_once_in_order():
    assert convert.days_off_json(["2027-01-07", "2027-01-01", "2027-01-07"]) == ["2027-01-01", "2027-01-07"]
    with pytest.raises(InvalidArgument) as refused:
        convert.days_off_json(["2027-01-01", "01.01.2027"])
    assert _fields(refused.value) == {"mechanic.days_off[1]"}


def test_a_config_branch_becomes_the_schedules_branch():
    branch = convert.branch_schedule(config_pb2.Branch(
        time_zone="Asia/Yekaterinburg", days_off=["2027-01-01"],
        hours=[config_pb2.OpeningHours(weekday=config_pb2.WEEKDAY_SATURDAY, opens="10:00", closes="16:00")]))
    assert branch.zone.key == "Asia/Yekaterinburg"
    assert branch.days_off == frozenset({datetime.date(2027, 1, 1)})
    assert branch.hours.saturday == ((datetime.time(10), datetime.time(16)),) and branch.hours.monday == ()
