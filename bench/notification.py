"""Emails per second from events to the mail server: N registrations' 2N emails.

Each fresh account registered through the edge makes auth emit two events, user.registered and
account_link.email_verification, which notification turns into a welcome email (default
preferences: email only) and the address's verification link, sent over SMTP to the mesh's
Mailpit. The accounts go to a domain of the run's own, so earlier mail never counts.

While the accounts are registered, notification's two consumers of auth's events are paused in
JetStream and their events wait in the stream, as they would behind a restarted or lagging
consumer. Registering is not timed: the edge lets one address register 2 a second (its strict
budget) and auth hashes every password, so timing it would measure those instead.

Timed: from resuming the consumers until Mailpit received the last of the 2N emails (its own
arrival time): notification reading each event, keeping the contact and writing the message,
then sending them one by one (each marked sending, sent over an SMTP connection of its own,
recorded as sent; a pass looks for 20 due, and again at once while it finds that many). The CPU
every program of the mesh spent over the same window is printed per email (notification's
instances; Mailpit receiving and storing; PostgreSQL's backends; NATS).

Prints one JSON document, emails/s beside GET /health and GET /auth/me through the edge from
the same run (wrk), with its share of /auth/me's requests/s.
"""
import argparse
import asyncio
import collections
import datetime
import json
import sys
import time
import uuid

import httpx

from bench import processes
from bench.edge import EDGE, wrk
from scripts.mesh.layout import MAIL_HTTP_ADDR
from services.kit import settings
from services.kit.bus import Bus
from services.kit.subjects import stream_name

PASSWORD = "Bench-Reader-2026"
# notification's durable consumers of auth's events (kit.consumers: "<service>-<durable>"), each
# writing one email a registration.
AUTH_STREAM, CONSUMERS = stream_name("auth"), ("notification-accounts", "notification-account-links")
# Mailpit is asked gently: the bench shares the machine's cores with what it measures.
POLL_SECONDS = 0.25


def _ok(answer: httpx.Response, what: str) -> dict:
    if answer.status_code != 200:
        raise SystemExit(f"{what}: {answer.status_code} {answer.text[:300]}")
    return answer.json()


def post_within_budget(edge: httpx.Client, path: str, body: dict, what: str) -> dict:
    """A sign-up or sign-in: past the edge's budget for them (2 a second an address), it waits
    for the budget to refill rather than fail."""
    while (answer := edge.post(path, json=body)).status_code == 429:
        time.sleep(0.5)
    return _ok(answer, what)


def register(edge: httpx.Client, addresses: list[str]) -> None:
    for address in addresses:
        post_within_budget(edge, "/auth/register", {
            "email": address, "password": PASSWORD, "confirm_password": PASSWORD,
            "full_name": "Bench Reader", "phone": ""}, f"registering {address}")


def mail_total(mail: httpx.Client) -> int:
    """Every message Mailpit holds: a cheap count, unlike a search."""
    return _ok(mail.get("/api/v1/messages", params={"limit": 1}), "counting mail")["total"]


def mail_to(mail: httpx.Client, domain: str, expected: int) -> list[dict]:
    """The messages to the run's addresses (a page larger than the run could fill)."""
    return _ok(mail.get("/api/v1/search", params={"query": f"to:@{domain}", "limit": expected * 2 + 10}),
               "searching mail")["messages"]


def wait_for_mail(mail: httpx.Client, domain: str, expected: int, held_before: int, seconds: float) -> list[dict]:
    """The run's messages once there are `expected` of them; an error after `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        # The mailbox's count first: a search costs Mailpit CPU inside the window measured.
        if mail_total(mail) - held_before >= expected:
            found = mail_to(mail, domain, expected)
            if len(found) >= expected:
                return found
        if time.monotonic() > deadline:
            found = mail_to(mail, domain, expected)
            raise SystemExit(f"only {len(found)} of {expected} emails reached Mailpit in {seconds:.0f} s "
                             f"(see .run/logs/notification-*.log and GET /notifications)")
        time.sleep(POLL_SECONDS)


async def wait_until(bus: Bus, ready, what: str, seconds: float = 60) -> list:
    """Every consumer's info once `ready(info)` holds for each; an error naming `what` after `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        infos = [await bus.js.consumer_info(AUTH_STREAM, consumer) for consumer in CONSUMERS]
        if all(ready(info) for info in infos):
            return infos
        if time.monotonic() > deadline:
            raise SystemExit(f"{what} within {seconds:.0f} s: " + "; ".join(
                f"{info.name}: {info.num_pending} pending, {info.num_ack_pending} unacked, paused {info.paused}"
                for info in infos))
        await asyncio.sleep(0.5)


def _rfc3339(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


async def run(accounts: int, wait_seconds: float) -> dict:
    config = settings.load()
    domain = f"bench-{uuid.uuid4().hex[:10]}.example.ru"
    addresses = [f"reader.{number}@{domain}" for number in range(accounts)]
    bus = Bus(config.nats_url, login=config.nats_login)
    await bus.connect()
    # The run's instances throughout: a mesh restarted meanwhile (./scripts/test stops it) is
    # no measurement.
    instances = {name: pid for name, pid in processes.programs().items()
                 if name.startswith(("notification:", "mail"))}
    try:
        await wait_until(bus, lambda info: not info.num_pending and not info.num_ack_pending,
                         "earlier events not handled")
        # Until a bound, so a bench stopped half way leaves the consumer paused no longer.
        registering_bound = 120 + accounts
        until = _rfc3339(datetime.datetime.now(datetime.UTC) + datetime.timedelta(seconds=registering_bound))
        for consumer in CONSUMERS:
            await bus.js.pause_consumer(AUTH_STREAM, consumer, until)
        try:
            print(f"==> registering {accounts} accounts at {domain} (the edge allows about 2 a second)",
                  file=sys.stderr)
            registering_started = time.monotonic()
            with httpx.Client(base_url=f"http://{EDGE}", timeout=30) as edge:
                register(edge, addresses)
            registering_seconds = time.monotonic() - registering_started
            # Every event in the stream (auth's outbox relay publishes them a moment after the
            # registration's answer), so the window holds none of auth's own work.
            infos = await wait_until(bus, lambda info: info.num_pending >= accounts, "the registrations' events not in")
            if not all(info.paused for info in infos):
                raise SystemExit(f"a consumer was resumed before the {accounts} accounts were registered "
                                 f"({registering_seconds:.0f} s against the pause's {registering_bound} s)")
            with httpx.Client(base_url=f"http://{MAIL_HTTP_ADDR}", timeout=10) as mail:
                held_before = mail_total(mail)
                cpu_before = processes.cpu_seconds()
                resumed = datetime.datetime.now(datetime.UTC)
                for consumer in CONSUMERS:
                    await bus.js.resume_consumer(AUTH_STREAM, consumer)
                found = await asyncio.to_thread(wait_for_mail, mail, domain, 2 * accounts, held_before, wait_seconds)
                cpu = {program: spent - cpu_before.get(program, 0.0)
                       for program, spent in processes.cpu_seconds().items()}
        finally:
            for consumer in CONSUMERS:
                await bus.js.resume_consumer(AUTH_STREAM, consumer)
    finally:
        await bus.close()
    now_running = processes.programs()
    if any(now_running.get(name) != pid for name, pid in instances.items()):
        raise SystemExit("notification or the mail server restarted during the run: no measurement")
    arrivals = sorted(datetime.datetime.fromisoformat(message["Created"]) for message in found)
    recipients = collections.Counter(entry["Address"] for message in found for entry in message["To"])
    seconds = (arrivals[-1] - resumed).total_seconds()
    sent = 2 * accounts
    return {
        "accounts": accounts,
        "emails": sent,
        "delivered": len(found),
        "addresses_not_mailed_twice": sum(count != 2 for count in recipients.values()),
        "registering_seconds_not_timed": round(registering_seconds, 1),
        "seconds": round(seconds, 2),
        "first_email_after_seconds": round((arrivals[0] - resumed).total_seconds(), 2),
        "emails_per_second": round(sent / seconds, 1),
        "cpu_ms_per_email": {program: round(spent * 1000 / sent, 2)
                             for program, spent in sorted(cpu.items(), key=lambda item: -item[1])
                             if spent * 1000 / sent >= 0.01},
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    # Enough for the first and last passes to weigh little; registering them takes ~N/2 s.
    parser.add_argument("--accounts", type=int, default=150)
    parser.add_argument("--wait-seconds", type=float, default=120)
    parser.add_argument("--seconds", type=int, default=10, help="each reference's wrk run")
    parser.add_argument("--connections", type=int, default=64)
    args = parser.parse_args()
    emails = asyncio.run(run(args.accounts, args.wait_seconds))
    config = settings.load()
    with httpx.Client(base_url=f"http://{EDGE}", timeout=30) as edge:
        token = post_within_budget(edge, "/auth/login", {"email": config.admin_email,
                                                         "password": config.admin_password}, "logging in")["access_token"]
    results = {
        "account emails, events to Mailpit": emails,
        "GET /health (REST)": wrk("/health", args.seconds, args.connections, {}),
        "GET /auth/me (REST)": wrk("/auth/me", args.seconds, args.connections, {"authorization": f"Bearer {token}"}),
    }
    emails["share_of_auth_me"] = round(emails["emails_per_second"]
                                       / results["GET /auth/me (REST)"]["requests_per_second"], 3)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
