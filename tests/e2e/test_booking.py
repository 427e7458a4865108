"""booking end to end through the edge: free slots on a branch's 15-minute local grid, bookings
that the database never lets overlap (however many ask at once), rescheduling, the hours, days
off and grid a start must keep to, who sees and moves what, a job started and completed with
exact money, a car's history, test drives of stock cars cancelled when inventory reserves the
car, the reminder published once, and the same over native gRPC.

Every test opens a branch of its own (through the config service, as the admin) with mechanics
of its own, so neither the seed nor another test's bookings change what it sees. Times are on
a weekday a week ahead, at the branch's local (Moscow) times."""
import asyncio
import dataclasses
import datetime
import time
import uuid
from zoneinfo import ZoneInfo

import grpc
import httpx
import nats
import nats.errors
import pytest
from google.protobuf import timestamp_pb2
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from autosalon.booking.v1 import booking_pb2, booking_pb2_grpc
from autosalon.common.v1 import common_pb2
from scripts.mesh import supervisor
from scripts.mesh.layout import instances
from services.kit import vin as vins
from services.kit.subjects import stream_name

from .conftest import EDGE, STRONG_PASSWORD, bearer, grpc_fields, login, register
from .test_auth_rest import violations
from .test_inventory import _vehicle_body
from .test_mesh_operations import _consul

UTC = datetime.timezone.utc
ZONE = ZoneInfo("Europe/Moscow")
MINUTE, HOUR, DAY = datetime.timedelta(minutes=1), datetime.timedelta(hours=1), datetime.timedelta(days=1)
INVALID_ARGUMENT, NOT_FOUND, ALREADY_EXISTS, PERMISSION_DENIED, FAILED_PRECONDITION, UNAUTHENTICATED = (
    3, 5, 6, 7, 9, 16)
# How the per-call policy words a refusal by the access rule (kit.identity.check_access).
BY_THE_RULE = "may not call"
SCHEDULED, IN_PROGRESS, COMPLETED, CANCELLED = (
    f"BOOKING_STATUS_{status}" for status in ("SCHEDULED", "IN_PROGRESS", "COMPLETED", "CANCELLED"))
DRIVE_SCHEDULED, DRIVE_CANCELLED = "TEST_DRIVE_STATUS_SCHEDULED", "TEST_DRIVE_STATUS_CANCELLED"
WORKDAYS = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY")
EVERY_DAY = (*WORKDAYS, "SATURDAY", "SUNDAY")
# The test branches' week: Monday to Friday 09:00-18:00, the weekend closed.
NINE_TO_SIX = [{"weekday": f"WEEKDAY_{day}", "opens": "09:00", "closes": "18:00"} for day in WORKDAYS]
# Open round the clock, every day: a booking soon after now is always within the hours.
ROUND_THE_CLOCK = [{"weekday": f"WEEKDAY_{day}", "opens": "00:00", "closes": "23:59"} for day in EVERY_DAY]
# The grid starts of a 60-minute job in a 09:00-18:00 day: 09:00 to 17:00.
NINE_TO_FIVE = [f"{hour:02d}:{minute:02d}" for hour in range(9, 17) for minute in (0, 15, 30, 45)] + ["17:00"]
REMINDER_LEAD = "booking.reminder_lead_minutes"
REMINDER_DUE = "autosalon.booking.booking.reminder_due"


# Helpers: resources of the test's own.

@dataclasses.dataclass(frozen=True)
class Workshop:
    branch: str    # "branches/t-..."
    mechanic: str  # "mechanics/{uuid}", the branch's only one


def _fresh(prefix: str = "t-") -> str:
    return f"{prefix}{uuid.uuid4().hex[:12]}"


def _vin() -> str:
    return vins.example("XTAGFL110S")


def _ok(response: httpx.Response) -> dict:
    assert response.status_code == 200, f"{response.request.method} {response.request.url}: {response.text}"
    return response.json()


def _refused(response: httpx.Response, status: int, code: int, *words: str) -> dict:
    """A refusal with this HTTP status and google.rpc code whose message names each of `words`."""
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == code, body
    for word in words:
        assert word in body["message"], f"{word!r} not in {body['message']!r}"
    return body


def _invalid(response: httpx.Response, *fields: str) -> dict:
    """A 400 INVALID_ARGUMENT whose field violations name `fields`: field -> description."""
    _refused(response, 400, INVALID_ARGUMENT)
    found = violations(response)
    assert set(fields) <= set(found), response.text
    return found


def _failed_precondition(response: httpx.Response, *words: str) -> dict:
    """The edge answers FAILED_PRECONDITION with 400 (google.rpc code 9)."""
    return _refused(response, 400, FAILED_PRECONDITION, *words)


def _denied_by_the_rule(response: httpx.Response) -> None:
    assert BY_THE_RULE in _refused(response, 403, PERMISSION_DENIED)["message"]


def _violation(response: httpx.Response, field: str) -> str:
    """The description of the 400's violation of `field` of the request, which the schedule's
    checks name by the field's own name (`start_time`) and the API's by its path in the request
    (`booking.start_time`): either is accepted."""
    _refused(response, 400, INVALID_ARGUMENT)
    found = violations(response)
    named = [description for name, description in found.items() if name.rpartition(".")[2] == field]
    assert named, f"no violation of {field}: {response.text}"
    return named[0]


def _another_client(edge) -> dict:
    user = register(edge)
    return {"user": user, **login(edge, user["email"], STRONG_PASSWORD)}


def _branch(edge, admin: dict, hours: list = NINE_TO_SIX, days_off: tuple = ()) -> str:
    """A new branch in Moscow's time zone, opened by the admin in the config service."""
    branch_id = _fresh()
    _ok(edge.post("/admin/branches", params={"branch_id": branch_id}, headers=bearer(admin), json={
        "display_name": f"Workshop {branch_id}", "address": "Moscow, Tverskaya 1", "time_zone": "Europe/Moscow",
        "hours": hours, "days_off": [day.isoformat() for day in days_off]}))
    return f"branches/{branch_id}"


def _mechanic(edge, staff: dict, branch: str, skills: tuple = ("SKILL_MAINTENANCE",), **fields) -> str:
    mechanic = _ok(edge.post("/service/mechanics", headers=bearer(staff), json={
        "display_name": "Sergei Volkov", "branch": branch, "skills": list(skills), **fields}))
    assert mechanic["name"].startswith("mechanics/") and mechanic["branch"] == branch, mechanic
    return mechanic["name"]


def _job_type(edge, staff: dict, minutes: int = 60, skill: str = "SKILL_MAINTENANCE") -> str:
    job_type_id = _fresh()
    job = _ok(edge.post("/service/job-types", params={"job_type_id": job_type_id}, headers=bearer(staff),
                        json={"display_name": f"Test job {minutes} min", "duration_minutes": minutes, "skill": skill}))
    assert (job["name"], job["duration_minutes"], job["active"]) == (f"job-types/{job_type_id}", minutes, True), job
    return job["name"]


@pytest.fixture(scope="module")
def job_type(edge, manager_session) -> str:
    """The module's own 60-minute maintenance job."""
    return _job_type(edge, manager_session)


@pytest.fixture
def workshop(edge, admin_session, manager_session) -> Workshop:
    """A branch of the test's own (Monday to Friday 09:00-18:00) with one mechanic."""
    branch = _branch(edge, admin_session)
    return Workshop(branch, _mechanic(edge, manager_session, branch))


# Helpers: times.

def _workday(ahead: int = 7) -> datetime.date:
    """A Monday to Friday at least `ahead` days after today in Moscow."""
    day = datetime.datetime.now(ZONE).date() + datetime.timedelta(days=ahead)
    while day.weekday() >= 5:
        day += DAY
    return day


def _next_workday(day: datetime.date) -> datetime.date:
    day += DAY
    while day.weekday() >= 5:
        day += DAY
    return day


def _at(day: datetime.date, clock: str) -> datetime.datetime:
    """`clock` ("HH:MM") in Moscow on `day`, as a UTC moment."""
    return datetime.datetime.combine(day, datetime.time.fromisoformat(clock), ZONE).astimezone(UTC)


def _rfc(moment: datetime.datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _moment(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


def _local(text: str) -> str:
    """A timestamp of an answer as Moscow's "HH:MM"."""
    return _moment(text).astimezone(ZONE).strftime("%H:%M")


def _soon(job: datetime.timedelta) -> datetime.datetime:
    """The first start on the 15-minute grid at least 20 minutes from now at which a `job` ends by
    23:59 the same day (the ROUND_THE_CLOCK hours): 20 to 40 minutes ahead."""
    local = datetime.datetime.now(ZONE) + 20 * MINUTE
    local = local.replace(second=0, microsecond=0) + MINUTE
    local += (-local.minute % 15) * MINUTE
    if (local + job).date() != local.date() or (local + job).time() > datetime.time(23, 59):
        local = datetime.datetime.combine(local.date() + DAY, datetime.time(0), ZONE)
    return local.astimezone(UTC)


# Helpers: the API.

def _slots(edge, branch: str, job_type: str, day: datetime.date, headers: dict | None = None) -> list[dict]:
    """The free slots of the job at the branch on the local `day`, asked anonymously."""
    answer = _ok(edge.get("/service/slots", headers=headers or {}, params={
        "branch": branch, "job_type": job_type, "start_time": _rfc(_at(day, "00:00")),
        "end_time": _rfc(_at(day + DAY, "00:00"))}))
    assert answer["time_zone"] == "Europe/Moscow", answer
    return answer.get("slots", [])


def _starts(slots: list[dict]) -> list[str]:
    return [_local(slot["start_time"]) for slot in slots]


def _book(edge, session: dict | None, branch: str, job_type: str, start: datetime.datetime | str,
          car: str | None = None, key: str | None = None, **fields) -> httpx.Response:
    headers = {**(bearer(session) if session else {}), **({"Idempotency-Key": key} if key else {})}
    return edge.post("/service/bookings", headers=headers, json={
        "vin": car or _vin(), "job_type": job_type, "branch": branch,
        "start_time": start if isinstance(start, str) else _rfc(start), **fields})


def _booked(edge, session: dict, branch: str, job_type: str, start: datetime.datetime, **fields) -> dict:
    booking = _ok(_book(edge, session, branch, job_type, start, **fields))
    assert booking["status"] == SCHEDULED and _moment(booking["start_time"]) == start, booking
    return booking


def _get(edge, session: dict, name: str) -> dict:
    return _ok(edge.get(f"/service/{name}", headers=bearer(session)))


def _act(edge, session: dict | None, booking: dict, verb: str, body: dict | None = None) -> httpx.Response:
    return edge.post(f"/service/{booking['name']}:{verb}", headers=bearer(session) if session else {},
                     json=body or {})


def _list(edge, path: str, field: str, session: dict, **params) -> list[dict]:
    return _ok(edge.get(path, headers=bearer(session), params=params)).get(field, [])


def _names(items: list[dict]) -> list[str]:
    return [item["name"] for item in items]


def _history(edge, session: dict, car: str) -> list[dict]:
    return _list(edge, f"/service/vehicles/{car}/history", "bookings", session)


# 1. A free slot booked, and then no longer free.

def test_a_client_books_a_free_slot_which_is_then_no_longer_free(edge, client_session, workshop, job_type):
    day = _workday()
    before = _slots(edge, workshop.branch, job_type, day)
    assert _starts(before) == NINE_TO_FIVE
    assert {slot["mechanic"] for slot in before} == {workshop.mechanic}
    chosen = before[NINE_TO_FIVE.index("11:00")]
    assert _moment(chosen["end_time"]) - _moment(chosen["start_time"]) == HOUR
    car = _vin()
    booking = _ok(_book(edge, client_session, workshop.branch, job_type, chosen["start_time"], car,
                        notes="Knocking noise when cold"))
    assert booking["name"].startswith("bookings/")
    uuid.UUID(booking["name"].removeprefix("bookings/"))
    assert (booking["customer"], booking["vin"], booking["job_type"], booking["branch"]) == (
        client_session["user"]["name"], car, job_type, workshop.branch)
    assert (booking["start_time"], booking["end_time"], booking["mechanic"]) == (
        chosen["start_time"], chosen["end_time"], chosen["mechanic"])
    assert (booking["status"], booking["notes"], booking["cancel_reason"]) == (
        SCHEDULED, "Knocking noise when cold", "")
    assert _get(edge, client_session, booking["name"]) == booking
    # Its hour is taken: no 60-minute job of the only mechanic may start from 10:15 to 11:45.
    taken = {"10:15", "10:30", "10:45", "11:00", "11:15", "11:30", "11:45"}
    assert _starts(_slots(edge, workshop.branch, job_type, day)) == [
        start for start in NINE_TO_FIVE if start not in taken]
    # Another client, the same mechanic, an overlapping time: refused, naming the clash.
    other = _another_client(edge)
    clash = _book(edge, other, workshop.branch, job_type, _at(day, "11:30"), mechanic=workshop.mechanic)
    _refused(clash, 409, ALREADY_EXISTS, workshop.mechanic, booking["name"])
    # Without naming the mechanic: nobody is free then either.
    _refused(_book(edge, other, workshop.branch, job_type, _at(day, "10:30")), 409, ALREADY_EXISTS)
    assert _list(edge, "/service/bookings", "bookings", other) == []
    # Adjacent hours are free: a job may start when another ends and end when it starts.
    _booked(edge, other, workshop.branch, job_type, _at(day, "12:00"), mechanic=workshop.mechanic)
    _booked(edge, other, workshop.branch, job_type, _at(day, "10:00"))
    assert _names(_list(edge, "/service/bookings", "bookings", client_session)) == [booking["name"]]


def test_with_two_mechanics_a_booked_time_stays_free_with_the_other(
        edge, admin_session, manager_session, client_session, job_type):
    branch = _branch(edge, admin_session)
    first, second = _mechanic(edge, manager_session, branch), _mechanic(edge, manager_session, branch)
    day = _workday()
    assert _starts(_slots(edge, branch, job_type, day)) == NINE_TO_FIVE
    booking = _booked(edge, client_session, branch, job_type, _at(day, "11:00"), mechanic=first)
    assert booking["mechanic"] == first
    after = _slots(edge, branch, job_type, day)
    assert _starts(after) == NINE_TO_FIVE  # every start is still free: with the other mechanic
    assert {slot["mechanic"] for slot in after if "10:15" <= _local(slot["start_time"]) <= "11:45"} == {second}
    # The least busy that day takes an unnamed booking; then both are taken at 11:00.
    again = _booked(edge, _another_client(edge), branch, job_type, _at(day, "11:00"))
    assert again["mechanic"] == second
    assert "11:00" not in _starts(_slots(edge, branch, job_type, day))
    _refused(_book(edge, _another_client(edge), branch, job_type, _at(day, "11:00")), 409, ALREADY_EXISTS)


def test_a_retried_booking_with_the_same_idempotency_key_returns_the_first(edge, client_session, workshop, job_type):
    start, key, car = _at(_workday(), "15:00"), uuid.uuid4().hex, _vin()
    first = _ok(_book(edge, client_session, workshop.branch, job_type, start, car, key=key))
    again = _ok(_book(edge, client_session, workshop.branch, job_type, start, car, key=key))
    assert again == first
    assert _names(_list(edge, "/service/bookings", "bookings", client_session)) == [first["name"]]


# 2. Many at once for one slot: the database lets exactly one in.

async def test_twenty_concurrent_bookings_of_one_slot_give_exactly_one_booking(
        edge, client_session, manager_session, workshop, job_type):
    start = _at(_workday(), "10:00")
    headers = bearer(client_session)
    bodies = [{"vin": _vin(), "job_type": job_type, "branch": workshop.branch, "start_time": _rfc(start)}
              for _ in range(20)]
    async with httpx.AsyncClient(base_url=f"http://{EDGE}", timeout=60) as client:
        answers = await asyncio.gather(*(client.post("/service/bookings", headers=headers, json=body)
                                         for body in bodies))
    seen = [(answer.status_code, answer.text[:200]) for answer in answers]
    assert sorted(answer.status_code for answer in answers) == [200] + [409] * 19, seen
    winner = next(answer.json() for answer in answers if answer.status_code == 200)
    assert all(answer.json()["code"] == ALREADY_EXISTS for answer in answers if answer.status_code == 409), seen
    assert (winner["status"], winner["mechanic"], _moment(winner["start_time"])) == (
        SCHEDULED, workshop.mechanic, start)
    window = {"branch": workshop.branch, "start_time": _rfc(start - HOUR), "end_time": _rfc(start + HOUR)}
    scheduled = _list(edge, "/service/bookings", "bookings", manager_session, status=SCHEDULED, **window)
    assert _names(scheduled) == [winner["name"]]
    # The refused ones left nothing behind, in any status.
    assert _names(_list(edge, "/service/bookings", "bookings", manager_session, **window)) == [winner["name"]]


# 3. Rescheduling.

def test_rescheduling_frees_the_old_slot_and_takes_the_new_one(edge, client_session, workshop, job_type):
    day = _workday()
    booking = _booked(edge, client_session, workshop.branch, job_type, _at(day, "10:00"))
    assert "10:00" not in _starts(_slots(edge, workshop.branch, job_type, day))
    moved = _ok(_act(edge, client_session, booking, "reschedule", {"start_time": _rfc(_at(day, "14:00"))}))
    assert (moved["name"], moved["mechanic"], moved["status"]) == (booking["name"], booking["mechanic"], SCHEDULED)
    assert (_moment(moved["start_time"]), _moment(moved["end_time"])) == (_at(day, "14:00"), _at(day, "15:00"))
    free = _starts(_slots(edge, workshop.branch, job_type, day))
    assert {"09:15", "09:30", "09:45", "10:00", "10:15", "10:30", "10:45"} <= set(free)
    assert not {"13:15", "13:30", "13:45", "14:00", "14:15", "14:30", "14:45"} & set(free)
    assert _get(edge, client_session, booking["name"]) == moved
    # The old time is anyone's again, with the same mechanic.
    other = _another_client(edge)
    _booked(edge, other, workshop.branch, job_type, _at(day, "10:00"), mechanic=workshop.mechanic)
    # A new time the mechanic is taken at is refused, and the booking stays where it was.
    _booked(edge, other, workshop.branch, job_type, _at(day, "16:00"))
    clash = _act(edge, client_session, moved, "reschedule", {"start_time": _rfc(_at(day, "15:30"))})
    _refused(clash, 409, ALREADY_EXISTS)
    assert _get(edge, client_session, booking["name"]) == moved


# 4. The start must keep to the hours, the days off and the grid.

def test_a_start_outside_the_hours_on_a_day_off_or_off_the_grid_is_400_naming_start_time(
        edge, admin_session, manager_session, client_session, job_type):
    day = _workday()
    holiday = _next_workday(day)
    saturday = day + datetime.timedelta(days=5 - day.weekday())
    branch = _branch(edge, admin_session, days_off=(holiday,))
    # The mechanic works 12:00-16:00 only, inside the branch's 09:00-18:00.
    own_hours = [{"weekday": weekday, "start": "12:00", "end": "16:00"} for weekday in range(1, 6)]
    mechanic = _mechanic(edge, manager_session, branch, hours=own_hours)
    cases = [
        (_at(day, "10:00"), ("outside", "working hours", "12:00–16:00")),    # before their hours
        (_at(day, "15:30"), ("outside", "working hours", "12:00–16:00")),    # ends after them
        (_at(day, "12:07"), ("15-minute grid", "Europe/Moscow")),             # off the grid
        (_at(day, "12:00") + datetime.timedelta(seconds=30), ("15-minute grid",)),
        (_at(holiday, "13:00"), ("day off at the branch", holiday.isoformat())),
        (_at(saturday, "13:00"), ("not a working day",)),                    # the branch is closed
    ]
    for start, words in cases:
        for named in ({"mechanic": mechanic}, {}):
            reason = _violation(_book(edge, client_session, branch, job_type, start, **named), "start_time")
            for word in words:
                assert word in reason, f"{_rfc(start)} {named}: {word!r} not in {reason!r}"
    assert _list(edge, "/service/bookings", "bookings", client_session) == []
    # Within the mechanic's hours it is taken.
    _booked(edge, client_session, branch, job_type, _at(day, "15:00"), mechanic=mechanic)


def test_a_mechanics_own_day_off_is_400_naming_start_time(edge, admin_session, manager_session, client_session,
                                                          job_type):
    day = _workday()
    branch = _branch(edge, admin_session)
    mechanic = _mechanic(edge, manager_session, branch, days_off=[day.isoformat()])
    reason = _violation(_book(edge, client_session, branch, job_type, _at(day, "10:00"), mechanic=mechanic),
                        "start_time")
    assert "day off" in reason and day.isoformat() in reason, reason
    assert _slots(edge, branch, job_type, day) == []
    _booked(edge, client_session, branch, job_type, _at(_next_workday(day), "10:00"), mechanic=mechanic)


def test_an_unknown_job_type_or_branch_is_404(edge, client_session, workshop):
    start = _at(_workday(), "10:00")
    _refused(_book(edge, client_session, workshop.branch, "job-types/no-such-job", start), 404, NOT_FOUND,
             "job-types/no-such-job")
    _refused(edge.get("/service/slots", params={
        "branch": workshop.branch, "job_type": "job-types/no-such-job", "start_time": _rfc(start),
        "end_time": _rfc(start + DAY)}), 404, NOT_FOUND)
    _refused(_book(edge, client_session, "branches/no-such-branch", "job-types/oil-change", start), 404, NOT_FOUND,
             "branches/no-such-branch")
    assert _list(edge, "/service/bookings", "bookings", client_session) == []


@pytest.mark.parametrize("car", ["ABC123", "XTAGFL110S1234567X", "XTAGFL11OS1234567", "XTAGFL110S12345!7"],
                         ids=["short", "long", "letter-O", "punctuation"])
def test_a_malformed_vin_is_400_naming_booking_vin(edge, client_session, workshop, job_type, car):
    _invalid(_book(edge, client_session, workshop.branch, job_type, _at(_workday(), "10:00"), car), "booking.vin")
    assert _list(edge, "/service/bookings", "bookings", client_session) == []


def test_a_start_in_the_past_or_too_far_ahead_is_400(edge, client_session, workshop, job_type):
    yesterday = datetime.datetime.now(ZONE).date() - DAY
    past = _book(edge, client_session, workshop.branch, job_type, _at(yesterday, "10:00"))
    assert "future" in _violation(past, "start_time")
    far = _at(_workday(200), "10:00")
    assert "within" in _violation(_book(edge, client_session, workshop.branch, job_type, far), "start_time")
    missing = edge.post("/service/bookings", headers=bearer(client_session), json={
        "vin": _vin(), "job_type": job_type, "branch": workshop.branch})
    _violation(missing, "start_time")
    assert _list(edge, "/service/bookings", "bookings", client_session) == []


# 5. Who sees and does what.

def test_who_may_see_and_move_a_booking(edge, client_session, manager_session, workshop, job_type):
    day = _workday()
    car = _vin()
    booking = _booked(edge, client_session, workshop.branch, job_type, _at(day, "10:00"), car=car)
    stranger = _another_client(edge)
    # Another client's booking does not exist for a client.
    _refused(edge.get(f"/service/{booking['name']}", headers=bearer(stranger)), 404, NOT_FOUND)
    _refused(_act(edge, stranger, booking, "cancel", {"reason": "not mine"}), 404, NOT_FOUND)
    _refused(_act(edge, stranger, booking, "reschedule", {"start_time": _rfc(_at(day, "14:00"))}), 404, NOT_FOUND)
    assert _list(edge, "/service/bookings", "bookings", stranger) == []
    assert _history(edge, stranger, car) == []
    # A client neither starts nor completes a job, not even their own.
    _denied_by_the_rule(_act(edge, client_session, booking, "start"))
    _denied_by_the_rule(_act(edge, client_session, booking, "complete",
                             {"parts": {"amount": "1"}, "labour": {"amount": "1"}}))
    # Nor runs the workshop, nor books for someone else.
    _denied_by_the_rule(edge.post("/service/mechanics", headers=bearer(client_session), json={
        "display_name": "Me", "branch": workshop.branch, "skills": ["SKILL_MAINTENANCE"]}))
    _denied_by_the_rule(edge.post("/service/job-types", params={"job_type_id": _fresh()},
                                  headers=bearer(client_session),
                                  json={"display_name": "X", "duration_minutes": 30, "skill": "SKILL_TYRES"}))
    _refused(_book(edge, client_session, workshop.branch, job_type, _at(day, "14:00"),
                   customer=stranger["user"]["name"]), 403, PERMISSION_DENIED)
    # Nobody signed in books nothing and sees nothing.
    _refused(_book(edge, None, workshop.branch, job_type, _at(day, "14:00")), 401, UNAUTHENTICATED)
    _refused(edge.get(f"/service/{booking['name']}"), 401, UNAUTHENTICATED)
    _refused(edge.get("/service/bookings"), 401, UNAUTHENTICATED)
    # The slots and the job types are public.
    assert job_type in _names(_ok(edge.get("/service/job-types"))["job_types"])
    assert "10:00" not in _starts(_slots(edge, workshop.branch, job_type, day))
    # Staff see and move everyone's.
    assert _get(edge, manager_session, booking["name"]) == booking
    assert booking["name"] in _names(_list(edge, "/service/bookings", "bookings", manager_session,
                                           branch=workshop.branch))
    assert _get(edge, client_session, booking["name"])["status"] == SCHEDULED


def test_staff_book_for_a_customer(edge, client_session, manager_session, workshop, job_type):
    booking = _booked(edge, manager_session, workshop.branch, job_type, _at(_workday(), "09:00"),
                      customer=client_session["user"]["name"])
    assert booking["customer"] == client_session["user"]["name"]
    assert booking["audit"]["created_by"] == manager_session["user"]["name"]
    assert _names(_list(edge, "/service/bookings", "bookings", client_session)) == [booking["name"]]


# 6. Staff start and complete; the moves that are not allowed.

def test_staff_start_then_complete_a_job_with_exact_parts_and_labour(edge, client_session, manager_session, workshop,
                                                                     job_type):
    booking = _booked(edge, client_session, workshop.branch, job_type, _at(_workday(), "10:00"))
    started = _ok(_act(edge, manager_session, booking, "start"))
    assert started["status"] == IN_PROGRESS and "parts" not in started
    done = _ok(_act(edge, manager_session, booking, "complete", {
        "parts": {"amount": "4500.50", "currency_code": "RUB"}, "labour": {"amount": "3000"},
        "work_done": "Oil and filter changed, 4.2 l 5W-30"}))
    assert done["status"] == COMPLETED
    assert done["parts"] == {"currency_code": "RUB", "amount": "4500.50"}
    assert done["labour"] == {"currency_code": "RUB", "amount": "3000.00"}
    assert done["work_done"] == "Oil and filter changed, 4.2 l 5W-30"
    assert _get(edge, client_session, booking["name"]) == done
    # A finished job moves no more.
    _failed_precondition(_act(edge, manager_session, booking, "cancel", {"reason": "too late"}), "completed")
    _failed_precondition(_act(edge, client_session, booking, "cancel", {"reason": "too late"}), "completed")
    _failed_precondition(_act(edge, manager_session, booking, "start"), "completed")
    assert _get(edge, client_session, booking["name"]) == done


def test_a_completion_with_negative_or_unreadable_money_is_400(edge, client_session, manager_session, workshop,
                                                               job_type):
    booking = _booked(edge, client_session, workshop.branch, job_type, _at(_workday(), "10:00"))
    _ok(_act(edge, manager_session, booking, "start"))
    _invalid(_act(edge, manager_session, booking, "complete",
                  {"parts": {"amount": "-1"}, "labour": {"amount": "100"}}), "parts")
    _invalid(_act(edge, manager_session, booking, "complete", {"labour": {"amount": "100"}}), "parts.amount")
    assert _get(edge, manager_session, booking["name"])["status"] == IN_PROGRESS


def test_illegal_moves_are_failed_precondition_naming_the_status(edge, client_session, manager_session, workshop,
                                                                 job_type):
    day = _workday()
    booking = _booked(edge, client_session, workshop.branch, job_type, _at(day, "10:00"))
    money = {"parts": {"amount": "100"}, "labour": {"amount": "200"}}
    _failed_precondition(_act(edge, manager_session, booking, "complete", money), "scheduled")
    # A cancellation needs a reason.
    for body in ({}, {"reason": "   "}, {"reason": "x" * 501}):
        _invalid(_act(edge, client_session, booking, "cancel", body), "reason")
    assert _get(edge, client_session, booking["name"])["status"] == SCHEDULED
    cancelled = _ok(_act(edge, client_session, booking, "cancel", {"reason": "the car was sold"}))
    assert (cancelled["status"], cancelled["cancel_reason"]) == (CANCELLED, "the car was sold")
    _failed_precondition(_act(edge, manager_session, booking, "start"), "cancelled")
    _failed_precondition(_act(edge, manager_session, booking, "complete", money), "cancelled")
    _failed_precondition(_act(edge, client_session, booking, "reschedule", {"start_time": _rfc(_at(day, "14:00"))}),
                         "cancelled")
    assert _get(edge, client_session, booking["name"]) == cancelled
    # Its time is free again.
    assert "10:00" in _starts(_slots(edge, workshop.branch, job_type, day))
    _booked(edge, _another_client(edge), workshop.branch, job_type, _at(day, "10:00"), mechanic=workshop.mechanic)


def test_staff_cancel_a_job_in_progress_with_a_reason(edge, client_session, manager_session, workshop, job_type):
    booking = _booked(edge, client_session, workshop.branch, job_type, _at(_workday(), "10:00"))
    _ok(_act(edge, manager_session, booking, "start"))
    _invalid(_act(edge, manager_session, booking, "cancel"), "reason")
    cancelled = _ok(_act(edge, manager_session, booking, "cancel", {"reason": "parts not delivered"}))
    assert (cancelled["status"], cancelled["cancel_reason"]) == (CANCELLED, "parts not delivered")
    _failed_precondition(_act(edge, client_session, booking, "reschedule",
                              {"start_time": _rfc(_at(_workday(), "14:00"))}), "cancelled")


# 7. A car's history.

def test_a_cars_history_lists_its_jobs_newest_first_and_a_client_sees_their_own_only(
        edge, client_session, manager_session, workshop, job_type):
    day = _workday()
    later = _next_workday(day)
    car = _vin()
    first = _booked(edge, client_session, workshop.branch, job_type, _at(day, "10:00"), car=car)
    second = _booked(edge, client_session, workshop.branch, job_type, _at(day, "14:00"), car=car)
    third = _booked(edge, client_session, workshop.branch, job_type, _at(later, "10:00"), car=car)
    dropped = _booked(edge, client_session, workshop.branch, job_type, _at(later, "16:00"), car=car)
    _ok(_act(edge, client_session, dropped, "cancel", {"reason": "changed my mind"}))
    _booked(edge, client_session, workshop.branch, job_type, _at(later, "12:00"))  # another car
    _ok(_act(edge, manager_session, first, "start"))
    done = _ok(_act(edge, manager_session, first, "complete",
                    {"parts": {"amount": "0"}, "labour": {"amount": "1200"}}))
    # The car changes hands: its next owner books it too.
    buyer = _another_client(edge)
    theirs = _booked(edge, buyer, workshop.branch, job_type, _at(later, "14:00"), car=car)
    own = _history(edge, client_session, car)
    assert _names(own) == [third["name"], second["name"], first["name"]]
    assert own[-1] == done
    assert _names(_history(edge, client_session, car.lower())) == _names(own)
    assert _names(_history(edge, buyer, car)) == [theirs["name"]]
    assert _names(_history(edge, manager_session, car)) == [
        theirs["name"], third["name"], second["name"], first["name"]]
    assert _history(edge, client_session, _vin()) == []
    _invalid(edge.get("/service/vehicles/NOT-A-VIN/history", headers=bearer(client_session)), "vehicle")


# 8. Test drives.

def _drive(edge, session: dict, vehicle: str, branch: str, start: datetime.datetime, minutes: int = 60
           ) -> httpx.Response:
    return edge.post("/service/test-drives", headers=bearer(session), json={
        "vehicle": vehicle, "branch": branch, "start_time": _rfc(start), "duration_minutes": minutes})


def _until_drive(edge, session: dict, name: str, done, seconds: float = 10) -> dict:
    deadline = time.monotonic() + seconds
    while not done(found := _get(edge, session, name)):
        assert time.monotonic() < deadline, f"{name} is still {found}"
        time.sleep(0.2)
    return found


def test_a_test_drive_of_an_available_car_is_cancelled_when_inventory_reserves_it(
        edge, admin_session, manager_session, client_session):
    branch = _branch(edge, admin_session)
    location = f"Test drive yard {_fresh('')}"
    car = _ok(edge.post("/inventory/vehicles", json=_vehicle_body(edge, branch=location),
                        headers=bearer(admin_session)))
    available = _list(edge, "/inventory/vehicles", "vehicles", client_session,
                      status="VEHICLE_STATUS_AVAILABLE", branch=location)
    assert _names(available) == [car["name"]]
    day = _workday()
    drive = _ok(_drive(edge, client_session, car["name"], branch, _at(day, "11:00")))
    assert drive["name"].startswith("test-drives/")
    assert (drive["status"], drive["vehicle"], drive["branch"], drive["customer"], drive["duration_minutes"]) == (
        DRIVE_SCHEDULED, car["name"], branch, client_session["user"]["name"], 60)
    assert (_moment(drive["start_time"]), _moment(drive["end_time"])) == (_at(day, "11:00"), _at(day, "12:00"))
    # The car is out then: an overlapping drive is refused, naming the clash; one just after is not.
    other = _another_client(edge)
    _refused(_drive(edge, other, car["name"], branch, _at(day, "11:30"), 30), 409, ALREADY_EXISTS,
             car["name"], drive["name"])
    after = _ok(_drive(edge, other, car["name"], branch, _at(day, "12:00"), 30))
    for minutes in (25, 70, 40, 0):
        _violation(_drive(edge, other, car["name"], branch, _at(day, "15:00"), minutes), "duration_minutes")
    _refused(edge.get(f"/service/{drive['name']}", headers=bearer(other)), 404, NOT_FOUND)
    assert _names(_list(edge, "/service/test-drives", "test_drives", other)) == [after["name"]]
    # Staff see the day's drives at the branch.
    day_drives = _list(edge, "/service/test-drives", "test_drives", manager_session, branch=branch,
                       day=day.isoformat())
    assert _names(day_drives) == [drive["name"], after["name"]]
    assert _list(edge, "/service/test-drives", "test_drives", manager_session, branch=branch,
                 day=_next_workday(day).isoformat()) == []
    # Inventory reserves the car for an order: its drives still to come are called off.
    reserved = _ok(edge.post(f"/inventory/{car['name']}:reserve", headers=bearer(manager_session),
                             json={"order_id": _fresh("order-")}))
    assert reserved["status"] == "VEHICLE_STATUS_RESERVED"
    called_off = _until_drive(edge, client_session, drive["name"], lambda found: found["status"] != DRIVE_SCHEDULED)
    assert called_off["status"] == DRIVE_CANCELLED
    assert "reserved" in called_off["cancel_reason"], called_off
    assert _until_drive(edge, other, after["name"],
                        lambda found: found["status"] != DRIVE_SCHEDULED)["status"] == DRIVE_CANCELLED
    # A reserved car is not driven.
    _failed_precondition(_drive(edge, client_session, car["name"], branch, _at(day, "15:00")), "reserved")


def test_a_client_cancels_their_test_drive_with_a_reason(edge, admin_session, client_session, manager_session):
    branch = _branch(edge, admin_session)
    car = _ok(edge.post("/inventory/vehicles", json=_vehicle_body(edge), headers=bearer(manager_session)))
    start = _at(_workday(), "11:00")
    drive = _ok(_drive(edge, client_session, car["name"], branch, start, 45))
    _invalid(edge.post(f"/service/{drive['name']}:cancel", headers=bearer(client_session), json={}), "reason")
    cancelled = _ok(edge.post(f"/service/{drive['name']}:cancel", headers=bearer(client_session),
                              json={"reason": "bought another car"}))
    assert (cancelled["status"], cancelled["cancel_reason"]) == (DRIVE_CANCELLED, "bought another car")
    # The car is free then again.
    _ok(_drive(edge, _another_client(edge), car["name"], branch, start, 45))


# 9. The reminder: published once, a restart of booking notwithstanding.

def _set_lead(edge, admin: dict, value: str) -> dict:
    return _ok(edge.patch(f"/admin/settings/{REMINDER_LEAD}", headers=bearer(admin), json={"value": value}))


async def _reminders(mesh, booking: str, since: datetime.datetime) -> list[booking_pb2.Booking]:
    """The bookings of every reminder_due event about `booking` stored in booking's stream since
    `since`, read by an ephemeral consumer of the operator's."""
    user, password = mesh.nats_login
    connection = await nats.connect(mesh.nats_url, user=user, password=password)
    try:
        stream = connection.jetstream()
        consumer = await stream.pull_subscribe(
            REMINDER_DUE, durable=None, stream=stream_name("booking"),
            config=ConsumerConfig(deliver_policy=DeliverPolicy.BY_START_TIME, opt_start_time=_rfc(since),
                                  ack_policy=AckPolicy.NONE))
        found = []
        while True:
            try:
                messages = await consumer.fetch(100, timeout=1)
            # nats-py raises asyncio's own when the wait ran out before its second request.
            except (nats.errors.TimeoutError, asyncio.TimeoutError):
                break
            for message in messages:
                envelope = common_pb2.EventEnvelope.FromString(message.data)
                if envelope.subject == booking:
                    assert envelope.type == REMINDER_DUE and envelope.source == "booking", envelope
                    event = booking_pb2.BookingEvent()
                    assert envelope.data.Unpack(event), envelope
                    found.append(event.booking)
        await consumer.unsubscribe()
        return found
    finally:
        await connection.close()


def _restart_booking(edge) -> None:
    supervisor.ctl("restart", "booking:*")
    deadline = time.monotonic() + 60
    while len(_consul("/v1/health/service/booking?passing=true")) != instances("booking"):
        assert time.monotonic() < deadline, "booking did not come back healthy"
        time.sleep(0.2)
    # The edge may not have heard of the new instance yet: it answers 503 until it has.
    while (response := edge.get("/service/job-types")).status_code != 200:
        assert response.status_code == 503 and time.monotonic() < deadline, response.text
        time.sleep(0.2)


@pytest.mark.disruptive
async def test_a_reminder_is_published_exactly_once_the_lead_time_before_even_across_restarts(
        edge, mesh, admin_session, manager_session, client_session):
    branch = _branch(edge, admin_session, hours=ROUND_THE_CLOCK)
    mechanic = _mechanic(edge, manager_session, branch)
    quick = _job_type(edge, manager_session, minutes=15)
    since = datetime.datetime.now(UTC) - 2 * MINUTE
    try:
        # A lead of a minute: a booking 20 minutes or more ahead is not due yet.
        _set_lead(edge, admin_session, "1")
        await asyncio.sleep(2)  # a hot setting applies within a second
        start = _soon(15 * MINUTE)
        booking = _booked(edge, client_session, branch, quick, start, mechanic=mechanic)
        await asyncio.sleep(3)  # the reminders are looked for every second
        assert await _reminders(mesh, booking["name"], since) == [], "reminded before the lead time"
        _restart_booking(edge)
        # An hour's lead: the booking, 20 to 40 minutes ahead, is due at once.
        _set_lead(edge, admin_session, "60")
        deadline = time.monotonic() + 20
        while not (reminded := await _reminders(mesh, booking["name"], since)):
            assert time.monotonic() < deadline, f"no reminder for {booking['name']}"
            await asyncio.sleep(0.5)
        await asyncio.sleep(5)
        reminded = await _reminders(mesh, booking["name"], since)
        assert len(reminded) == 1, reminded
        assert (reminded[0].name, reminded[0].status) == (booking["name"], booking_pb2.BOOKING_STATUS_SCHEDULED)
        assert reminded[0].start_time.ToDatetime(tzinfo=UTC) == start
        # Restarted once it was sent, booking does not send it again.
        _restart_booking(edge)
        await asyncio.sleep(4)
        assert len(await _reminders(mesh, booking["name"], since)) == 1
    finally:
        _set_lead(edge, admin_session, "")


# 10. Native gRPC through the edge.

def _signed(session: dict) -> tuple:
    return (("authorization", f"Bearer {session['access_token']}"),)


def _timestamp(moment: datetime.datetime) -> timestamp_pb2.Timestamp:
    stamp = timestamp_pb2.Timestamp()
    stamp.FromDatetime(moment.astimezone(UTC))
    return stamp


def _violated_fields(error: grpc.aio.AioRpcError) -> set[str]:
    fields = grpc_fields(error)
    return {field.rpartition(".")[2] for field in fields} | fields


async def test_slots_and_bookings_over_native_grpc(edge_channel, client_session, workshop, job_type):
    stub = booking_pb2_grpc.BookingServiceStub(edge_channel)
    day = _workday()
    window = booking_pb2.ListSlotsRequest(branch=workshop.branch, job_type=job_type,
                                          start_time=_timestamp(_at(day, "00:00")),
                                          end_time=_timestamp(_at(day + DAY, "00:00")))
    slots = await stub.ListSlots(window)  # public: no token
    assert slots.time_zone == "Europe/Moscow"
    starts = [slot.start_time.ToDatetime(tzinfo=UTC) for slot in slots.slots]
    assert starts == [_at(day, clock) for clock in NINE_TO_FIVE]
    chosen = slots.slots[NINE_TO_FIVE.index("13:00")]
    draft = booking_pb2.Booking(vin=_vin(), job_type=job_type, branch=workshop.branch, start_time=chosen.start_time)
    with pytest.raises(grpc.aio.AioRpcError) as anonymous:
        await stub.CreateBooking(booking_pb2.CreateBookingRequest(booking=draft))
    assert anonymous.value.code() == grpc.StatusCode.UNAUTHENTICATED
    made = await stub.CreateBooking(booking_pb2.CreateBookingRequest(booking=draft), metadata=_signed(client_session))
    assert (made.status, made.mechanic, made.customer) == (
        booking_pb2.BOOKING_STATUS_SCHEDULED, chosen.mechanic, client_session["user"]["name"])
    assert (made.start_time, made.end_time) == (chosen.start_time, chosen.end_time)
    found = await stub.GetBooking(booking_pb2.GetBookingRequest(name=made.name), metadata=_signed(client_session))
    assert found == made
    overlapping = booking_pb2.Booking(vin=_vin(), job_type=job_type, branch=workshop.branch,
                                      mechanic=workshop.mechanic, start_time=_timestamp(_at(day, "13:30")))
    with pytest.raises(grpc.aio.AioRpcError) as taken:
        await stub.CreateBooking(booking_pb2.CreateBookingRequest(booking=overlapping),
                                 metadata=_signed(client_session))
    assert taken.value.code() == grpc.StatusCode.ALREADY_EXISTS
    assert workshop.mechanic in taken.value.details() and made.name in taken.value.details()
    off_grid = booking_pb2.Booking(vin=_vin(), job_type=job_type, branch=workshop.branch,
                                   start_time=_timestamp(_at(day, "15:10")))
    with pytest.raises(grpc.aio.AioRpcError) as invalid:
        await stub.CreateBooking(booking_pb2.CreateBookingRequest(booking=off_grid), metadata=_signed(client_session))
    assert invalid.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "start_time" in _violated_fields(invalid.value)
    bad_vin = booking_pb2.Booking(vin="XTA-123", job_type=job_type, branch=workshop.branch,
                                  start_time=_timestamp(_at(day, "15:00")))
    with pytest.raises(grpc.aio.AioRpcError) as invalid:
        await stub.CreateBooking(booking_pb2.CreateBookingRequest(booking=bad_vin), metadata=_signed(client_session))
    assert invalid.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "booking.vin" in _violated_fields(invalid.value)
    after = await stub.ListSlots(window)
    assert chosen.start_time not in [slot.start_time for slot in after.slots]
    mine = await stub.ListBookings(booking_pb2.ListBookingsRequest(), metadata=_signed(client_session))
    assert [booking.name for booking in mine.bookings] == [made.name]
    with pytest.raises(grpc.aio.AioRpcError) as not_staff:
        await stub.StartBooking(booking_pb2.StartBookingRequest(name=made.name), metadata=_signed(client_session))
    assert not_staff.value.code() == grpc.StatusCode.PERMISSION_DENIED
