"""reporting's rules: the ranges a report may be asked for, the day an event counts on, the step
a cancelled order had reached."""
import datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.kit.errors import InvalidArgument
from services.reporting import domain

MOSCOW = ZoneInfo("Europe/Moscow")


def _fields(call) -> dict:
    with pytest.raises(InvalidArgument) as raised:
        call()
    return dict(raised.value.violations)


@given(st.dates(min_value=datetime.date(2000, 1, 1), max_value=datetime.date(2090, 1, 1)),
       st.integers(min_value=0, max_value=3 * 365))
def test_a_range_of_up_to_three_years_is_read_as_its_days(start, length):
    end = start + datetime.timedelta(days=length)
    assert domain.date_range(start.isoformat(), end.isoformat()) == (start, end)


def test_a_bad_range_names_its_field():
    assert set(_fields(lambda: domain.date_range("", ""))) == {"start_date", "end_date"}
    assert set(_fields(lambda: domain.date_range("2026-13-01", "2026-12-31"))) == {"start_date"}
    assert _fields(lambda: domain.date_range("2026-12-31", "2026-12-30")) == {
        "end_date": "must not be before start_date"}
    assert set(_fields(lambda: domain.date_range("2020-01-01", "2026-01-01"))) == {"end_date"}


def test_an_event_counts_on_the_dealerships_calendar_day():
    late_evening_utc = datetime.datetime(2026, 12, 31, 22, 30, tzinfo=datetime.timezone.utc)
    assert domain.local_day(late_evening_utc, MOSCOW) == datetime.date(2027, 1, 1)
    assert domain.local_day(late_evening_utc, datetime.timezone.utc) == datetime.date(2026, 12, 31)


@pytest.mark.parametrize("confirmed, paid, step", [
    (False, False, "created"), (True, False, "confirmed"), (True, True, "paid")])
def test_a_cancellation_stops_an_order_at_the_last_step_it_reached(confirmed, paid, step):
    assert domain.step_reached(confirmed, paid) == step
