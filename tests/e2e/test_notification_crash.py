"""notification killed (kill -9) between a message's send and the commit that records it: nothing
is sent twice for one event and channel.

The design: a notification is marked `sending` (one more attempt) and committed before it leaves;
once it has left, one transaction marks it sent and writes `notification.sent` to the outbox. An
instance that dies in between leaves it `sending`; after `notification.interrupted_seconds` the
next instance finds it. An SMS (or a push) is sent again, since its provider takes a message once
by its id; an email is marked failed, since SMTP cannot tell whether the first one left.

How the test stops the instance exactly there: it holds `LOCK TABLE outbox IN EXCLUSIVE MODE` in
notification's own database, which lets reads through but makes that transaction's outbox INSERT
wait. The message leaves (Mailpit or the SMS emulator has it), the instance waits on the lock
(pg_blocking_pids says so), and is killed there; the lock is then let go, and the dead instance's
transaction is rolled back with its connection. supervisord starts the instance again.
"""
import collections
import contextlib
import datetime
import os
import random
import signal
import time

import psycopg
import pytest

from scripts.mesh import supervisor
from scripts.mesh.layout import instances

from .conftest import STRONG_PASSWORD, bearer, login, new_email, register
from .mail import mail_to, sms_to

INTERRUPTED_SETTING = "/admin/settings/notification.interrupted_seconds"
# Short, so the next instance takes the message as interrupted a moment after it starts.
INTERRUPTED_SECONDS = 2
EMAIL_NOT_SENT_TWICE = "interrupted while sending: whether it left is unknown, so it is not sent twice"
# Long enough for the instance to start again, find the message and settle it.
RECOVERY_SECONDS = 45


def _until(probe, seconds: float, failure: str, every: float = 0.2):
    """`probe()`'s first true answer, asked every `every` seconds for at most `seconds`."""
    deadline = time.monotonic() + seconds
    while not (found := probe()):
        assert time.monotonic() < deadline, failure
        time.sleep(every)
    return found


@contextlib.contextmanager
def _database(mesh, autocommit: bool):
    with psycopg.connect(mesh.database_url("notification", driver="postgresql"), autocommit=autocommit) as connection:
        yield connection


@contextlib.contextmanager
def _outbox_locked(mesh):
    """notification's outbox locked against writes (reads pass) until the block ends: an
    instance that sent a message then waits in the transaction that records it."""
    with _database(mesh, autocommit=False) as locker:
        locker.execute("LOCK TABLE outbox IN EXCLUSIVE MODE")
        try:
            yield locker
        finally:
            locker.rollback()


def _waits_to_record_an_event(observer, locker) -> bool:
    """Whether a notification instance's outbox INSERT waits on the locker's lock."""
    # A second connection: pg_stat_activity is read once per transaction, and the locker's is open.
    waiting = observer.execute(
        "SELECT query FROM pg_stat_activity WHERE datname = 'notification' AND %s = ANY(pg_blocking_pids(pid))",
        (locker.info.backend_pid,)).fetchall()
    return any(query.lstrip().upper().startswith("INSERT INTO OUTBOX") for (query,) in waiting)


def _wait_until_quiet(observer) -> None:
    """No notification being sent or due in the next moments: the lock is for this test's message
    alone (it holds up whichever message leaves first, anyone's)."""
    _until(lambda: not observer.execute(
        "SELECT count(*) FROM notifications WHERE status = 'sending'"
        " OR (status = 'pending' AND next_attempt_at < now() + interval '20 seconds')").fetchone()[0], 40,
        "notification never fell quiet: other messages are being sent (is another test running on the mesh?)",
        every=0.3)


def _status(observer, notification_id: str) -> str:
    """The notification's status as committed (the API shows `sending` as pending)."""
    return observer.execute("SELECT status FROM notifications WHERE id = %s", (notification_id,)).fetchone()[0]


def _notification_id(observer, customer: str, kind: str, channel: str) -> str | None:
    """The id of the customer's notification of `kind` on `channel`, once it is written."""
    found = observer.execute("SELECT id FROM notifications WHERE customer = %s AND kind = %s AND channel = %s",
                             (customer, kind, channel)).fetchall()
    return str(found[0][0]) if found else None


def _notification_pids() -> dict[str, int]:
    """supervisord's PID of each notification instance (0: not running)."""
    pids = {}
    for number in range(instances("notification")):
        process = f"notification:notification-{number}"
        answer = supervisor.ctl("pid", process, check=False).stdout.strip()
        pids[process] = int(answer) if answer.isdigit() else 0
    return pids


def _kill_notification_and_wait_for_its_restart() -> None:
    """kill -9 every notification instance (the test mesh runs one); supervisord starts each again."""
    killed = _notification_pids()
    assert all(killed.values()), killed
    for pid in killed.values():
        os.kill(pid, signal.SIGKILL)
    _until(lambda: all(pid and pid != killed[process] for process, pid in _notification_pids().items()), 30,
           "supervisord did not start notification again after kill -9", every=0.3)


def _set_interrupted_seconds(edge, admin_session, value: str) -> None:
    answer = edge.patch(INTERRUPTED_SETTING, headers=bearer(admin_session), json={"value": value})
    assert answer.status_code == 200, answer.text


def _notification(edge, session, notification_id: str) -> dict | None:
    """One of the caller's notifications; None while the edge has no notification instance to ask."""
    answer = edge.get(f"/notifications/{notification_id}", headers=bearer(session))
    return answer.json() if answer.status_code == 200 else None


@pytest.mark.disruptive
def test_a_registration_email_cut_off_before_its_commit_is_failed_and_never_sent_again(mesh, edge, admin_session):
    """A registration writes its emails (the welcome, the address's verification): the first to
    leave is caught. Which one that is, the send pass's order says; its Message-ID names it."""
    email = new_email("crash")
    try:
        with _database(mesh, autocommit=True) as observer:
            _wait_until_quiet(observer)
            with _outbox_locked(mesh) as locker:
                register(edge, email)
                [caught] = _until(lambda: mail_to(email), 15, "no email of the registration reached the mail server")
                _until(lambda: _waits_to_record_an_event(observer, locker), 10,
                       "the instance that sent the email does not wait to record it")
                caught_id = caught["MessageID"].removesuffix("@autosalon.local")
                assert _status(observer, caught_id) == "sending"
                # Its row is locked by the waiting transaction: no recovery pass takes it yet.
                _set_interrupted_seconds(edge, admin_session, str(INTERRUPTED_SECONDS))
                _kill_notification_and_wait_for_its_restart()
        session = login(edge, email, STRONG_PASSWORD)
        failed = _until(lambda: (found := _notification(edge, session, caught_id))
                        and found["status"] == "NOTIFICATION_STATUS_FAILED" and found,
                        RECOVERY_SECONDS, "the interrupted email was never settled", every=0.5)
        # A recovery pass or two more, and send passes: anything sent again would show by now.
        time.sleep(INTERRUPTED_SECONDS + 1.5)
    finally:
        _set_interrupted_seconds(edge, admin_session, "")
    assert (failed["channel"], failed["recipient"], failed["attempts"]) == ("CHANNEL_EMAIL", email, 1)
    assert failed["last_error"] == EMAIL_NOT_SENT_TWICE
    # Each notification is one Message-ID: the caught one arrived once, and none arrived twice.
    arrived = collections.Counter(message["MessageID"] for message in mail_to(email))
    assert arrived[caught["MessageID"]] == 1 and set(arrived.values()) == {1}, arrived
    assert _notification(edge, session, caught_id)["status"] == "NOTIFICATION_STATUS_FAILED"
    # Only the message cut off is given up: the registration's other email, never taken, went.
    others = [item for item in edge.get("/notifications", headers=bearer(session)).json()["notifications"]
              if item["name"] != f"notifications/{caught_id}"]
    assert others and all(item["status"] == "NOTIFICATION_STATUS_SENT" for item in others), others


def _free_slot(edge) -> str:
    today = datetime.datetime.now(datetime.timezone.utc)
    window = {"branch": "branches/moscow-central", "job_type": "job-types/oil-change",
              "start_time": (today + datetime.timedelta(days=2)).strftime("%Y-%m-%dT00:00:00Z"),
              "end_time": (today + datetime.timedelta(days=9)).strftime("%Y-%m-%dT00:00:00Z")}
    answer = edge.get("/service/slots", params=window)
    assert answer.status_code == 200 and answer.json()["slots"], answer.text
    return answer.json()["slots"][0]["start_time"]


@pytest.mark.disruptive
def test_an_sms_cut_off_before_its_commit_is_sent_again_and_the_customer_gets_one(mesh, edge, admin_session):
    # A phone of its own: everything the provider lists for it is this customer's.
    user = register(edge, phone=f"+7916{random.randrange(10 ** 7):07d}")
    client_session = login(edge, user["email"], STRONG_PASSWORD)
    _until(lambda: edge.get("/notifications/preferences", headers=bearer(client_session)).json().get("phone"), 10,
           "the account's phone never arrived from auth's events")
    chosen = edge.patch("/notifications/preferences", headers=bearer(client_session),
                        params={"update_mask": "transactional"},
                        json={"transactional": {"email": True, "sms": True}})
    assert chosen.status_code == 200, chosen.text
    start_time = _free_slot(edge)
    with _database(mesh, autocommit=True) as observer:
        _wait_until_quiet(observer)
        # Every email fails at once with the mail server away and waits for its retry (no event,
        # so no wait on the lock): the booking's SMS is the one message caught between send and commit.
        supervisor.ctl("stop", "mail")
        try:
            with _outbox_locked(mesh) as locker:
                booked = edge.post("/service/bookings", headers=bearer(client_session), json={
                    "vin": "XTA21099043576182", "job_type": "job-types/oil-change",
                    "branch": "branches/moscow-central", "start_time": start_time})
                assert booked.status_code == 200, booked.text
                sms_id = _until(lambda: _notification_id(observer, user["name"], "booking_created", "sms"), 15,
                                "the booking's SMS was never written")
                _until(lambda: sms_to(user["phone"]), 15, "the booking's SMS never reached the provider")
                _until(lambda: _waits_to_record_an_event(observer, locker), 10,
                       "the instance that sent the SMS does not wait to record it")
                assert _status(observer, sms_id) == "sending"
                _set_interrupted_seconds(edge, admin_session, str(INTERRUPTED_SECONDS))
                _kill_notification_and_wait_for_its_restart()
            sms = _until(lambda: (found := _notification(edge, client_session, sms_id))
                         and found["status"] == "NOTIFICATION_STATUS_SENT" and found,
                         RECOVERY_SECONDS, "the interrupted SMS was never sent again", every=0.5)
        finally:
            supervisor.ctl("start", "mail")
            _set_interrupted_seconds(edge, admin_session, "")
        recorded = observer.execute("SELECT provider_reference FROM notifications WHERE id = %s",
                                    (sms_id,)).fetchone()
    # Sent twice by notification, taken once by the provider: the customer got one, and the
    # second send was answered with the first one's reference.
    assert (sms["recipient"], sms["template"], sms["attempts"]) == (user["phone"], "templates/booking_created", 2)
    assert sms["send_time"] and not sms.get("last_error")  # proto3 JSON leaves an empty text out
    [delivered] = sms_to(user["phone"])
    assert delivered.message_id == sms_id and recorded == (delivered.provider_reference,)
